// What the encoder and the decoder of trees agree on: the format number, the mtime split into
// seconds and nanoseconds, and the rule a canonical listing keeps (sorted, no duplicate, safe
// names), checked on both ways.
import { TetherError } from '../errors.js';
import { display } from './bytes.js';
import type { Tree } from './entry.js';
import { checkName } from './name.js';

export const FORMAT = 1;
export const NS = 1_000_000_000n;

export function checkCanonical(tree: Tree): void {
  let prev: string | undefined;
  for (const e of tree) {
    checkName(e.name);
    if (prev !== undefined && !(prev < e.name)) {
      throw new TetherError(
        'EBADTREE',
        prev === e.name
          ? `duplicate name ${display(e.name)} in tree`
          : `tree entries out of order at ${display(e.name)}`,
        { name: display(e.name) },
      );
    }
    prev = e.name;
  }
}

export function bad(why: string): never {
  throw new TetherError('EBADTREE', `malformed tree encoding: ${why}`);
}

/** The fields of an entry whose array header is `t` (12, or 13 with a link key); 0 if neither. */
export function entryFields(t: number | undefined): number {
  return t === 0x9c ? 12 : t === 0x9d ? 13 : 0;
}

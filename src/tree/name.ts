// Name rules: a name is one path component. Unsafe names are rejected wherever a tree is
// decoded or built, so no tree can ever make a path escape its directory.
import { TetherError } from '../errors.js';
import { display, type ByteString } from './bytes.js';

/** Why a name is unsafe, or undefined when it is fine. */
export function unsafeNameReason(name: ByteString): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `reserved name ${name}`;
  if (name.includes('/')) return 'name contains "/"';
  if (name.includes('\0')) return 'name contains NUL';
  return undefined;
}

export function checkName(name: ByteString, where = 'tree'): void {
  const why = unsafeNameReason(name);
  if (why !== undefined) {
    throw new TetherError('EBADTREE', `unsafe name ${display(name)} in ${where}: ${why}`, {
      name: display(name),
    });
  }
}

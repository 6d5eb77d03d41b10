// `tether show PATH --snapshot NAME`: one path's content as a snapshot has it, from the store.
import { TetherError } from '../src/errors.js';
import { bytesOf, display, fromText, lookup } from '../src/tree/index.js';
import { snapshotTree } from './base.js';
import { locate } from './volume.js';
import { withReadStore } from './volume-store.js';

/** The bytes (a file's content, a symlink's target) of `target` in snapshot `name`. */
export async function snapshotContent(
  target: string,
  name: string,
  store: string | undefined,
): Promise<Buffer> {
  const inMount = store === undefined ? locate(target) : undefined;
  const path = inMount?.path ?? fromText(target.replace(/^\.?\/+|\/+$/g, ''));
  return withReadStore(store, inMount?.mountpoint, async (s) => {
    const e = lookup(s, snapshotTree(s, name), path);
    if (e === undefined) {
      throw new TetherError('ENOTFOUND', `the snapshot "${name}" has no ${display(path)}`);
    }
    if (e.kind === 'symlink') return bytesOf(e.target ?? '');
    if (e.kind !== 'file') {
      throw new TetherError('EUSAGE', `${display(path)} is a ${e.kind} in "${name}", not a file`);
    }
    if (e.id === undefined || s.blobSize(e.id) === undefined) {
      throw new TetherError(
        'ENOTFOUND',
        `the content of ${display(path)} in "${name}" is not in the store (never fetched)`,
      );
    }
    return s.readBlob(e.id);
  });
}

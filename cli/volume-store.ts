// What the snapshot commands share for a mounted volume: the store of the mount a path is in,
// opened read-only beside its daemon (which alone writes it), and the snapshot the daemon takes.
import { TetherError } from '../src/errors.js';
import type { Store } from '../src/store/store.js';
import { resolveStore } from './base.js';
import { ask, LONG_MS, locate, locateOrThrow, type Located } from './volume.js';

/** The volume `of` names (a mount point or a path in one), or nothing without --of. */
export function volumeOf(of: string | undefined): Located | undefined {
  return of === undefined ? undefined : locateOrThrow(of);
}

/** `--store S` or `--of MOUNTPOINT`, not both. */
export function storeDirOf(store: string | undefined, of: string | undefined): string {
  if (store !== undefined && of !== undefined) {
    throw new TetherError('EUSAGE', 'give --store or --of, not both');
  }
  return volumeOf(of)?.storeDir ?? resolveStore(store);
}

/**
 * Run `fn` with the store open: read-only when a daemon serves it (the mount's store), as
 * usual otherwise.
 */
export async function withReadStore<T>(
  store: string | undefined,
  of: string | undefined,
  fn: (s: Store) => Promise<T>,
): Promise<T> {
  const dir = storeDirOf(store, of);
  const { Store } = await import('../src/store/store.js');
  const s = await Store.open(dir, { readOnly: of !== undefined });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** A path argument that is inside a tether mount (never a directory to read through it). */
export const mountedAt = (arg: string): Located | undefined => locate(arg);

/** Ask the daemon of the volume `l` to snapshot its local view as `name`. */
export function takeOfVolume(
  l: Located,
  name: string,
  force: boolean,
): Promise<Record<string, unknown>> {
  return ask(l, { op: 'snapshot-take', name, force }, LONG_MS);
}

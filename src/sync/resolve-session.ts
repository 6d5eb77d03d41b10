// A resolve environment over a sync-dirs store: the conflict records, the base tree and the
// store's objects, and the two replicas the store is bound to.
import { TetherError } from '../errors.js';
import { lookup } from '../merge/tree-edit.js';
import { REF_BASE, type SyncStore } from '../store/kv.js';
import { advanceBaseAt, readBinding } from './binding.js';
import { ConflictStore } from './conflict-store.js';
import { releaseSyncLock, takeSyncLock } from './lock.js';
import type { ResolveEnv, SyncBase } from './resolve-env.js';

/** A resolve environment over a sync-dirs store, open until `close`. */
export interface ResolveSession {
  readonly env: ResolveEnv;
  close(): Promise<void>;
}

/** Open the sync-dirs store in `storeDir` for conflicts, show and resolve. */
export async function openResolveSession(
  storeDir: string,
  opts: { lock?: boolean } = {},
): Promise<ResolveSession> {
  const { Store } = await import('../store/store.js');
  const store = await Store.open(storeDir);
  // Resolving writes both replicas: not while a sync-dirs (or another resolve) runs.
  let locked = false;
  try {
    if (opts.lock === true) {
      await takeSyncLock(store.dir, 'tether resolve');
      locked = true;
    }
    const env = resolveEnvOf(store, storeDir);
    return {
      env,
      close: async () => {
        if (locked) await releaseSyncLock(store.dir);
        await store.close();
      },
    };
  } catch (err) {
    if (locked) await releaseSyncLock(store.dir);
    await store.close();
    throw err;
  }
}

/** The resolve environment over an open sync store (a mount's daemon resolves in its own). */
export function resolveEnvOf(store: SyncStore, storeDir: string): ResolveEnv {
  const bound = readBinding(store);
  if (bound === undefined) {
    throw new TetherError(
      'ENOTFOUND',
      `the store ${storeDir} has no sync-dirs replicas: run "tether sync-dirs A B --store ${storeDir}" first`,
    );
  }
  const base: SyncBase = {
    readTree: (id) => store.readTree(id),
    putTree: (tree) => store.putTree(tree),
    has: (id) => store.has(id),
    entryAt(path) {
      const root = store.getRef(REF_BASE);
      return root === undefined ? undefined : lookup(store, root, path);
    },
    readBlob: (id) => store.readBlob(id),
    async advance(updates) {
      await advanceBaseAt(store, updates);
    },
  };
  return {
    conflicts: new ConflictStore(store.db('conflicts')),
    base,
    localRoot: bound.local,
    serverRoot: bound.server,
    now: () => new Date(),
  };
}

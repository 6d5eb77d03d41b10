// Which two directories a sync-dirs store belongs to. The first run binds them; a later run
// naming other directories is refused, since the store's base describes these two only.
import { resolve } from 'node:path';
import { TetherError } from '../errors.js';
import type { Hash } from '../tree/index.js';
import { updateTree, type PathUpdate } from '../merge/base-update.js';
import { asBytes, REF_BASE, type SyncStore } from '../store/kv.js';

export interface Binding {
  /** Absolute path of the local replica (A). */
  readonly local: string;
  /** Absolute path of the server replica (B). */
  readonly server: string;
}

const KEY = Buffer.from('replicas');

export function readBinding(store: SyncStore): Binding | undefined {
  const v = asBytes(store.db('sync').get(KEY));
  if (v === undefined) return undefined;
  const [local, server] = v.toString('utf8').split('\0');
  if (local === undefined || server === undefined) {
    throw new TetherError(
      'ECORRUPT',
      'the replica binding in the store is damaged; run "tether fsck"',
    );
  }
  return { local, server };
}

/** Check `want` against the store's binding; binds it when there is none (and `bind`). */
export async function checkBinding(store: SyncStore, want: Binding, bind: boolean): Promise<void> {
  const local = resolve(want.local);
  const server = resolve(want.server);
  const have = readBinding(store);
  if (have === undefined) {
    if (bind) await store.db('sync').put(KEY, Buffer.from(`${local}\0${server}`, 'utf8'));
    return;
  }
  if (have.local !== local || have.server !== server) {
    throw new TetherError(
      'EUSAGE',
      `this store syncs ${have.local} with ${have.server}, not ${local} with ${server}: ` +
        `use the same two directories, or another --store for another pair`,
      { bound: have, given: { local, server } },
    );
  }
}

/** Set base at each path (null: the path leaves base) and move the base ref; for resolve. */
export async function advanceBaseAt(
  store: SyncStore,
  updates: readonly PathUpdate[],
): Promise<Hash> {
  const old = store.getRef(REF_BASE);
  if (old === undefined) {
    throw new TetherError(
      'ENOTFOUND',
      'this store has no sync base yet: run "tether sync-dirs" first',
    );
  }
  const id = updateTree(store, old, updates);
  await store.setRef(REF_BASE, id);
  return id;
}

// Small records the engine keeps in the store's 'sync' database: the automatic text merge
// setting and when the last completed run started (written with the run's commit).
import { asBytes, type SyncStore } from '../../store/kv.js';

const SETTINGS = Buffer.from('automerge');
const LAST_RUN = Buffer.from('last-run');

/** The store's automatic text merge setting (on unless turned off). */
export function automergeEnabled(store: SyncStore): boolean {
  const v = asBytes(store.db('sync').get(SETTINGS));
  return v === undefined || v[0] !== 0;
}

export async function setAutomerge(store: SyncStore, on: boolean): Promise<void> {
  await store.db('sync').put(SETTINGS, Buffer.from([on ? 1 : 0]));
}

/** When the last completed run started (ns since the epoch), if there was one. */
export function lastRunStart(store: SyncStore): bigint | undefined {
  const v = asBytes(store.db('sync').get(LAST_RUN));
  return v?.length === 8 ? v.readBigInt64LE(0) : undefined;
}

/** Inside the store's transaction that moves base (the run's commit), as part of it. */
export function setLastRunStartSync(store: SyncStore, ns: bigint): void {
  const v = Buffer.alloc(8);
  v.writeBigInt64LE(ns, 0);
  store.db('sync').putSync(LAST_RUN, v);
}

// One sync of a volume, as the daemon runs it in-process or the remote agent runs it: moved
// placeholders settled first (settle-moved.ts), then the engine between the local view and
// the remote (sync-dirs), its local scan told which files are placeholders and for what. The
// daemon composes the view's tree from base and its changed-path list (local-tree.ts) and
// hands it over, so that the local side is not walked at all where that tree still holds.
import { resolve } from 'node:path';
import type { Store } from '../store/store.js';
import { REF_BASE } from '../store/kv.js';
import { checkReplicas } from '../sync/guard.js';
import { runSyncDirs, type SyncPhase, type SyncSummary } from '../sync/sync-dirs.js';
import { EMPTY_TREE_ID, type Hash } from '../tree/index.js';
import { PlanLog } from '../sync/plan-log.js';
import { placeholderHook } from './placeholder-scan.js';
import { Placeholders } from './placeholders.js';
import { settleMoved, type Settled } from './settle-moved.js';

export type VolumeSyncSummary = SyncSummary & { readonly settled?: Settled };

/** A tree of the local view composed without walking it, and the base it was made over. */
export interface Composed {
  readonly id: Hash;
  readonly base: Hash;
}

export async function syncVolume(
  store: Store,
  local: string,
  remote: string,
  o: {
    readonly dryRun: boolean;
    readonly onPhase?: (phase: SyncPhase) => void;
    /** The view's tree as the daemon composed it (local-tree.ts), and the base it is over. */
    readonly composed?: Composed;
  },
): Promise<VolumeSyncSummary> {
  const placeholders = new Placeholders(store.db('volume'), Buffer.from(local));
  // Mounted on an empty remote, and nothing synced since: an empty remote is no outage.
  const emptyServerOk = store.getRef(REF_BASE) === EMPTY_TREE_ID;
  let settled: Settled | undefined;
  if (!o.dryRun) {
    // The guard first: a remote that is not there (an unmounted share) must not read as the
    // origins of moved placeholders removed.
    await checkReplicas(resolve(local), resolve(remote), emptyServerOk ? {} : { firstRun: false });
    settled = await settleMoved(store, local, remote, placeholders);
  }
  // The composed tree stands for the view only if nothing moved under it since: no base
  // change (an interrupted run to finish, a rename replayed), no placeholder filled or removed.
  const c = o.composed;
  const composedOk =
    c !== undefined &&
    store.getRef(REF_BASE) === c.base &&
    (settled === undefined || settled.touched.length === 0) &&
    new PlanLog(store.db('plans')).pending() === undefined;
  const s = await runSyncDirs(store, local, remote, {
    dryRun: o.dryRun,
    ...(composedOk ? { localTree: c.id } : {}),
    placeholder: placeholderHook(store, placeholders),
    emptyServerOk,
    ...(o.onPhase === undefined ? {} : { onPhase: o.onPhase }),
  });
  return settled === undefined ? s : { ...s, settled };
}

// One sync of a volume, as the daemon runs it in-process or the remote agent runs it: moved
// placeholders settled first (settle-moved.ts), then the engine between the local view and
// the remote (sync-dirs), its local scan told which files are placeholders and for what.
import { resolve } from 'node:path';
import type { Store } from '../store/store.js';
import { REF_BASE } from '../store/kv.js';
import { checkReplicas } from '../sync/guard.js';
import { runSyncDirs, type SyncPhase, type SyncSummary } from '../sync/sync-dirs.js';
import { EMPTY_TREE_ID } from '../tree/index.js';
import { placeholderHook } from './placeholder-scan.js';
import { Placeholders } from './placeholders.js';
import { settleMoved, type Settled } from './settle-moved.js';

export type VolumeSyncSummary = SyncSummary & { readonly settled?: Settled };

export async function syncVolume(
  store: Store,
  local: string,
  remote: string,
  o: { readonly dryRun: boolean; readonly onPhase?: (phase: SyncPhase) => void },
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
  const s = await runSyncDirs(store, local, remote, {
    dryRun: o.dryRun,
    placeholder: placeholderHook(store, placeholders),
    emptyServerOk,
    ...(o.onPhase === undefined ? {} : { onPhase: o.onPhase }),
  });
  return settled === undefined ? s : { ...s, settled };
}

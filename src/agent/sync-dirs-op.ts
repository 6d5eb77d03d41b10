// The remote agent's `sync-dirs`: the whole of a `tether sync-dirs` run (the guard, then the
// engine) in the agent, so that the command itself never calls on a server directory that may
// hang (network-fs.ts). The store is opened here (made on a first run) and closed at the end.
import { existsSync } from 'node:fs';
import { Store } from '../store/store.js';
import { checkReplicas } from '../sync/guard.js';
import { runSyncDirs, type SyncSummary } from '../sync/sync-dirs.js';

export interface SyncDirsArgs {
  readonly storeDir: string;
  readonly local: string;
  readonly server: string;
  readonly dryRun: boolean;
  readonly initial: boolean;
  readonly strict: boolean;
  readonly automerge?: boolean;
}

export async function syncDirsOp(
  args: unknown,
  progress: (v?: unknown) => void,
): Promise<SyncSummary> {
  const a = args as SyncDirsArgs;
  // Before the store is made: a missing or empty replica must leave no trace.
  await checkReplicas(a.local, a.server, {
    initial: a.initial,
    ...(existsSync(a.storeDir) ? {} : { firstRun: true }),
  });
  const store = await Store.openOrCreate(a.storeDir);
  try {
    return await runSyncDirs(store, a.local, a.server, {
      dryRun: a.dryRun,
      initial: a.initial,
      strict: a.strict,
      ...(a.automerge === undefined ? {} : { automerge: a.automerge }),
      onPhase: (phase) => {
        progress(phase);
      },
    });
  } finally {
    await store.close();
  }
}

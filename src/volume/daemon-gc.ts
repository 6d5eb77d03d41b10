// Garbage collection inside a volume's daemon (`tether gc` on a mounted volume asks for it over
// the control socket). It runs between syncs, resolves and snapshots (they write objects and
// then the refs that reach them), with fetches' blob stores paused and the blobs they stored but
// base does not name yet as roots: everything the daemon holds only in memory. The sweep itself
// is the store's, safe against kill -9 at any instant (store.dropObjects).
import { gc, type GcReport } from '../store/gc.js';
import type { Volume } from './volume.js';

export async function gcInDaemon(
  v: Volume,
  dryRun: boolean,
  log: (line: string) => void,
): Promise<GcReport> {
  const r = await v.between(() => {
    log(`gc${dryRun ? ' --dry-run' : ''}: started`);
    return gcHere(v, dryRun);
  });
  log(
    `gc: ${r.freed} of ${r.objects} objects ${dryRun ? 'would be ' : ''}freed (${r.freedBytes} bytes)`,
  );
  return r;
}

/** The same, from inside `v.between` (a cull frees in the same turn as it forgets ids). */
export function gcHere(v: Volume, dryRun: boolean): Promise<GcReport> {
  return v.learner.whilePaused((held) => gc(v.store, { dryRun, roots: held }));
}

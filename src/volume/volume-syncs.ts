// A volume's syncs through the engine (volume-sync.ts), one at a time under the volume's
// lock: each timed by phase for the log, and its outcome booked in the volume (placeholders
// and range maps the engine replaced, the view's changed paths, events, the last sync's
// outcome for status).
import { performance } from 'node:perf_hooks';
import type { SyncPhase, SyncSummary } from '../sync/sync-dirs.js';
import type { Volume, VolumeStatus } from './volume.js';
import { syncVolume } from './volume-sync.js';

export class VolumeSyncs {
  /** Changes in the view no sync has taken yet. */
  dirty = false;
  /** Syncs running. */
  busy = 0;
  lastSync: VolumeStatus['lastSync'];
  lastError: string | undefined;

  constructor(
    private readonly v: Volume,
    private readonly log: (line: string) => void,
  ) {}

  /** `quiet`: a background flush or pull, an event only when it changed something. */
  async run(dryRun: boolean, quiet = false): Promise<SyncSummary> {
    const dir = process.env['TETHER_PROFILE_SYNC'];
    if (dir !== undefined && dir !== '' && !dryRun) {
      // The daemon's side of a sync, profiled as the agent profiles its own (agent/profile.ts).
      const { profiled } = await import('../agent/profile.js');
      return profiled(dir, () => this.timed(dryRun, quiet), 'daemon');
    }
    const run = this.timed(dryRun, quiet);
    if (dryRun) return run;
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight = settled;
    void settled.then(() => {
      if (this.inFlight === settled) this.inFlight = undefined;
    });
    return run;
  }

  /** The sync under way (its end, however it ends), for a fetch that met the server mid-change. */
  inFlight: Promise<void> | undefined;

  private async timed(dryRun: boolean, quiet: boolean): Promise<SyncSummary> {
    this.busy++;
    try {
      if (!dryRun) this.dirty = false;
      // Where a sync's time goes, for the log: each phase's milliseconds.
      const phases: string[] = [];
      let at = performance.now();
      // compose: the view's tree from the changed-path list; start: the agent's checks up to
      // its scan; post: the daemon's bookkeeping after the agent answered.
      let phase = 'compose';
      if (!dryRun && !quiet) this.v.onEvent('sync-start', {});
      const onPhase = (p: SyncPhase | 'start'): void => {
        const now = performance.now();
        phases.push(`${phase} ${Math.round(now - at)}`);
        phase = p;
        at = now;
      };
      const composed = await this.v.composeLocal();
      onPhase('start');
      const s =
        this.v.remoteIo !== undefined
          ? await this.v.remoteIo.sync(dryRun, onPhase, composed)
          : await syncVolume(this.v.store, this.v.local, this.v.remote, {
              dryRun,
              onPhase,
              ...(composed === undefined ? {} : { composed }),
            });
      phases.push(`${phase} ${Math.round(performance.now() - at)}`);
      at = performance.now();
      if (!dryRun) {
        // Placeholders the engine replaced or removed in the view are placeholders no more.
        // A link made here changes its other name's link count too.
        const touched = s.plan.actions
          .filter((a) => a.side === 'local')
          .flatMap((a) =>
            a.op === 'put' && a.link !== undefined ? [a.path, a.link.to] : [a.path],
          );
        // Moved placeholders filled before the merge (settle-moved.ts), or gone.
        touched.push(...(s.settled?.touched ?? []));
        for (const l of s.settled?.lost ?? []) {
          this.log(`${this.v.describe(l.path)} removed: ${l.reason}`);
          this.v.onEvent('data-unavailable', { path: l.path, reason: l.reason });
        }
        this.v.onLocalWrite(touched);
        if (s.applied > 0) {
          await this.v.placeholders.pruneAt(touched);
          await this.v.ranges.pruneAt(touched, (p) => this.v.placeholders.isNow(p));
        }
        this.v.viewChanged(touched);
        if (s.applied > 0) {
          this.v.onSynced();
          phases.push(`post ${Math.round(performance.now() - at)}`);
          this.log(`sync phases (ms): ${phases.join(', ')}`);
        }
        this.lastSync = { at: Date.now(), applied: s.applied, conflicts: s.open };
        this.lastError = undefined;
        for (const c of s.conflicts) this.v.onEvent('conflict', { path: c.path, kind: c.kind });
        // A path the sync failed or skipped (each tried again by the next): `tether why` says
        // why, as it does for a fetch that failed.
        for (const f of s.failures) this.v.why.note(f.action.path, 'EREMOTE', 'sync', f.reason);
        for (const p of s.problems) this.v.why.note(p.path, 'EREMOTE', 'sync', p.reason);
        for (const n of s.notes) this.log(n.note);
        if (!quiet || s.applied > 0 || s.conflicts.length > 0) {
          this.v.onEvent('sync-finish', {
            applied: s.applied,
            conflicts: s.conflicts.length,
            open: s.open,
          });
        }
      }
      return s;
    } catch (err) {
      if (!dryRun) this.dirty = true;
      this.lastError = (err as Error).message;
      if (!dryRun) this.v.onEvent('sync-failed', { message: this.lastError });
      throw err;
    } finally {
      this.busy--;
    }
  }
}

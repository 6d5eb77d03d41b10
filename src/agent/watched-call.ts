// A long run on the remote (a sync) made by one agent while a second agent asks the remote every
// HEARTBEAT_MS whether it still answers, within the metadata deadline. When it does not, the
// run's agent is replaced (killed and abandoned, never awaited: DESIGN decision 2), which ends
// the run's call with a transport error at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SyncPhase } from '../sync/sync-dirs.js';
import { AgentCallError, type AgentClient } from './client.js';

const HEARTBEAT_MS = 1000;

const PHASES: ReadonlySet<unknown> = new Set<SyncPhase>([
  'resume',
  'scan',
  'merge',
  'apply',
  'commit',
]);

export interface WatchedCall {
  /** The agent that runs the call, and the one that probes meanwhile. */
  readonly agent: AgentClient;
  readonly prober: AgentClient;
  /** The probe's arguments (the remote it asks). */
  readonly probe: unknown;
  /** Deadlines: the probe's, and the whole run's. */
  readonly metaMs: number;
  readonly runMs: number;
  /** What the run's agent is replaced with the reason of, after the probe's own message. */
  readonly silence: string;
  readonly onPhase?: ((phase: SyncPhase) => void) | undefined;
}

/** `op` with `args` on `w.agent`, cut short when the remote stops answering `w.prober`. */
export async function callWatched<T>(op: string, args: unknown, w: WatchedCall): Promise<T> {
  // Read through a function: the loop must see the change made when the call settles.
  const run = { finished: false };
  const finished = (): boolean => run.finished;
  const watch = async (): Promise<void> => {
    while (!finished()) {
      await sleep(HEARTBEAT_MS);
      if (finished()) return;
      try {
        await w.prober.call('probe', w.probe, { deadlineMs: w.metaMs });
      } catch (err) {
        // Only silence cuts the run: any other answer is the run's own to report.
        if (err instanceof AgentCallError && err.transport && !finished()) {
          w.agent.replace(`${w.silence} (${err.message})`);
          return;
        }
      }
    }
  };
  void watch();
  try {
    return await w.agent.call<T>(op, args, {
      deadlineMs: w.runMs,
      onProgress: (v) => {
        if (PHASES.has(v)) w.onPhase?.(v as SyncPhase);
      },
    });
  } finally {
    run.finished = true;
  }
}

// The deadlines of calls made through the remote agent (DESIGN decision 2), from the
// environment, and how a tether process starts its agent.
import type { AgentSpawn } from './client.js';

export interface Deadlines {
  /** A metadata call, or the first sign of life of a transfer (ms). */
  readonly metaMs: number;
  /** Between two signs of progress of a transfer, or for the remote to answer during a sync (ms). */
  readonly idleMs: number;
  /** A phase of a sync (scan, merge, apply), however long the server keeps answering (ms). */
  readonly syncMs: number;
}

/** A duration from the environment variable `name` (ms): a positive number, else `dflt`. */
export function msFromEnv(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export function deadlinesFromEnv(): Deadlines {
  return {
    metaMs: msFromEnv('TETHER_DEADLINE_MS', 2000),
    idleMs: msFromEnv('TETHER_IDLE_MS', 5000),
    syncMs: msFromEnv('TETHER_SYNC_MS', 30 * 60_000),
  };
}

/** How the daemon starts its agent: the same tether, hidden command `__agent`. */
export function defaultAgentSpawn(): AgentSpawn {
  return {
    command: process.execPath,
    args: [process.argv[1] ?? '', '__agent'],
    // Room for concurrent fetches beside a heartbeat (libuv's pool has 4 threads): a hoard's
    // small files (16 at once, volume/batch-copy.ts) beside its large ones (16 at once), so no
    // request waits for a thread while its deadline runs.
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env['UV_THREADPOOL_SIZE'] ?? '32' },
  };
}

// The volume's public shapes, apart from the class that works on them: its timers, the status
// it reports, its events, and the error the mount answers for a tether condition (why.ts).
import { TetherError } from '../errors.js';
import type { CacheUse } from './cache-use.js';
import type { WhyRecord } from './why.js';
import type { Mode } from './volume-mode.js';

export type VolumeEvent = (type: string, data: Record<string, unknown>) => void;

export interface VolumeTimes {
  /** Flush this long after the last change (ms). */
  readonly flushDelayMs: number;
  /** Pull the server's changes this often while online (ms; like NFS's attribute cache). */
  readonly pullEveryMs: number;
  /** A fetch that takes longer is abandoned and the volume goes offline (ms). */
  readonly fetchDeadlineMs: number;
}

export const DEFAULT_TIMES: VolumeTimes = {
  flushDelayMs: 250,
  pullEveryMs: 1500,
  fetchDeadlineMs: 30_000,
};

export interface VolumeStatus {
  readonly mode: Mode;
  readonly remote: string;
  readonly store: string;
  readonly placeholders: number;
  /** Files and links made here that the server has not seen yet. */
  readonly provisional: number;
  readonly cache: CacheUse;
  readonly dirty: readonly { path: string; status: string }[];
  readonly conflicts: readonly { path: string; variant?: string; kind: string }[];
  readonly lastSync?: { at: number; applied: number; conflicts: number };
  readonly lastError?: string;
}

/** An error the mount answers with `errno`; `why` says which tether condition it was. */
export class VolumeError extends TetherError {
  constructor(readonly record: WhyRecord) {
    super('EIO', record.message, { why: record.name }, { errno: record.errno });
  }
}

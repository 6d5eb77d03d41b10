// Fetching a placeholder range by range (DESIGN decision 5). The server's file is stamped
// first; a range map recorded for another version of it (or another local file) is dropped
// and the fetch starts over, otherwise only the missing ranges are fetched. Each range is
// recorded once the copy answers (it is durable then), so an interrupted fetch keeps what it
// got. Large files are fetched several ranges at a time: each range is one request, with its
// own deadline on lack of progress. Completing the file (its size, mtime, the records dropped)
// is the caller's: see Volume.fetchNow.
import type { Path } from '../merge/plan.js';
import type { Hash } from '../tree/index.js';
import type { RangeStore } from './range-store.js';
import {
  emptyMap,
  missingChunks,
  presentBytes,
  sameServerFile,
  withRange,
  type RangeMap,
  type ServerStamp,
} from './ranges.js';

/**
 * A whole file's copy: the server file's stamp, whether it was copied (not: larger than asked),
 * and the id of its content where the copy stored it in the store too (a hoard's batches).
 */
export interface Whole {
  readonly stamp: ServerStamp;
  readonly copied: boolean;
  readonly id?: Hash;
}

/** Where ranges come from: the remote agent, or the daemon itself. */
export interface RangeSource {
  /** The server file's size and mtime now (the file at `from`, `path` by default). */
  stamp(path: Path, from?: Path): Promise<ServerStamp>;
  /**
   * Copy [start, end) of the server file at `from` (`path` by default) into the placeholder at
   * `path`, durably, if the server file still has `expect`.
   */
  copy(path: Path, start: number, end: number, expect: ServerStamp, from?: Path): Promise<void>;
  /**
   * The whole server file at `from` copied over the placeholder at `path` and completed (its
   * size and mtime, synced), if it has at most `max` bytes (range-copy.ts, copyWhole).
   */
  whole?(path: Path, max: number, from?: Path): Promise<Whole>;
}

export interface FetchPolicy {
  /** Bytes per range request (and per recorded range). */
  readonly chunk: number;
  /** Range requests in flight at once for a large file. */
  readonly parallel: number;
  /** From this size on a file is large. */
  readonly parallelFrom: number;
}

export const DEFAULT_POLICY: FetchPolicy = {
  chunk: 1 << 20,
  parallel: 4,
  parallelFrom: 8 << 20,
};

/** The policy, with TETHER_FETCH_PARALLEL (range requests in flight) where set. */
export function policyFromEnv(): FetchPolicy {
  const n = Number(process.env['TETHER_FETCH_PARALLEL']);
  return Number.isInteger(n) && n > 0 ? { ...DEFAULT_POLICY, parallel: n } : DEFAULT_POLICY;
}

export interface FetchOutcome {
  /** The server file the placeholder now holds all of. */
  readonly stamp: ServerStamp;
  /** Bytes fetched by this call, and bytes it found present already. */
  readonly fetched: number;
  readonly kept: number;
  /** A map of another version of the server's file was dropped. */
  readonly restarted: boolean;
  /** The content's id, where the fetch stored it in the store already (Whole). */
  readonly id?: Hash;
}

/** How many times a server file changing under the fetch restarts it before giving up. */
const ATTEMPTS = 3;

const isChanged = (err: unknown): boolean => {
  const e = err as { code?: unknown; remoteCode?: unknown };
  return e.remoteCode === 'ECHANGED' || e.code === 'ECHANGED';
};

/** Make every byte of `path`'s placeholder (local inode `ino`) present; see the header. */
export async function fetchRanges(
  src: RangeSource,
  maps: RangeStore,
  path: Path,
  ino: bigint,
  policy: FetchPolicy = DEFAULT_POLICY,
  origin: Path = path,
): Promise<FetchOutcome> {
  let restarted = false;
  for (let attempt = 1; ; attempt++) {
    const stamp = await src.stamp(path, origin);
    const recorded = maps.get(path);
    let map: RangeMap;
    if (recorded !== undefined && recorded.ino === ino && sameServerFile(recorded, stamp)) {
      map = recorded;
    } else {
      restarted ||= recorded !== undefined && presentBytes(recorded) > 0;
      map = emptyMap(stamp, ino);
      await maps.put(path, map);
    }
    const kept = presentBytes(map);
    const todo = missingChunks(map, policy.chunk);
    const width = stamp.size >= policy.parallelFrom ? policy.parallel : 1;
    let failure: Error | undefined;
    let next = 0;
    let fetched = 0;
    // Each range is recorded once its copy answered, without waiting for the record before
    // the next copy: the store gathers the writes of ranges done meanwhile into one commit.
    const records: Promise<void>[] = [];
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < todo.length) {
        const [s, e] = todo[next++]!;
        try {
          await src.copy(path, s, e, stamp, origin);
        } catch (err) {
          failure ??= err instanceof Error ? err : new Error(String(err));
          return;
        }
        map = withRange(map, s, e);
        fetched += e - s;
        const recorded = maps.put(path, map);
        // Awaited below, with the others; meanwhile a failure is no unhandled rejection.
        recorded.catch(() => undefined);
        records.push(recorded);
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, todo.length) }, worker));
    await Promise.all(records);
    if (failure === undefined) return { stamp, fetched, kept, restarted };
    if (!isChanged(failure) || attempt >= ATTEMPTS) throw failure;
    restarted = true;
  }
}

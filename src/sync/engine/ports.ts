// What the sync engine is given: two sides (a replica to change, and a way to scan it into a
// tree), a store, and a clock. sync-dirs binds two local directories; a mount's reconnect and
// its online flushes bind other sides to the same engine.
import type { TreeStore } from '../../merge/base-update.js';
import type { Path } from '../../merge/plan.js';
import type { Replica } from '../../replica/replica.js';
import type { FileHasher } from '../../scan/both-changed.js';
import type { PathProblem } from '../../scan/path-problem.js';
import type { HeldRecords } from '../../scan/scan-replica.js';
import type { SyncStore } from '../../store/kv.js';
import type { Hash } from '../../tree/index.js';

/** The time, asked for wherever the engine needs it (tests and daemons pass their own). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A time in nanoseconds since the epoch. */
export const nsOf = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n;

/** One scan of one side, as the engine asks for it. */
export interface ScanRequest {
  /** The base tree (ids of unchanged files). */
  readonly base: Hash;
  /** This side's last scan, if any (ids of files whose stamp is the same). */
  readonly known: readonly Hash[];
  /** Paths left out: recorded conflict variants. */
  readonly exclude: ReadonlySet<Path>;
  /** Where per-path problems go; undefined when a problem must stop the run (strict). */
  readonly problems: PathProblem[] | undefined;
  /** Scan cache records, held for the engine to write with the refs (never on a dry run). */
  readonly hold: HeldRecords;
  /** A dry run: the side is only read (no temp files removed, no cache kept). */
  readonly dry: boolean;
  /** Start of the last completed run (ns), if any: stamps newer than it are not trusted. */
  readonly lastRunNs: bigint | undefined;
  /** This scan's start (ns, the engine's clock). */
  readonly startNs: bigint;
}

/** One side of a sync. */
export interface Side {
  /** The replica the plan's actions on this side run against. */
  readonly replica: Replica;
  /** Where the side is, for messages (a directory's path, a remote's name). */
  readonly where: string;
  /** Its scans record hard-link groups (default true; sshfs shows none: merge/links.ts). */
  readonly linksSeen?: boolean;
  /** Scan the side into a tree in the store; returns its id. */
  scan(req: ScanRequest): Promise<Hash>;
  /**
   * Ids the engine learnt after the scan (files hashed to tell both-changed paths apart, and
   * rename candidates): `hashed` is `scanned` with them, for the side's scan cache to keep.
   */
  learn?(scanned: Hash, hashed: Hash, hold: HeldRecords): Promise<void>;
}

export interface Sides {
  readonly local: Side;
  readonly server: Side;
}

/** What the engine needs of the store. */
export interface EngineStore extends SyncStore, TreeStore {
  flush(): Promise<void>;
  /** Move refs together, running `alongside` inside the same transaction. */
  setRefs(refs: Readonly<Record<string, Hash>>, alongside?: () => void): Promise<void>;
}

/** The server side's files as the pre-merge hashing reads them. */
export function hasherOf(side: Side): FileHasher {
  return { where: side.where, hash: (path) => side.replica.hash(path) };
}

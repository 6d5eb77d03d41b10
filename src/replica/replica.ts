// One side of a sync, as the engine and the executor see it (MERGE.md invariants 7, 9): every
// mutating call names the state it expects at its target and answers a per-path problem,
// never an overwrite, when the target moved; a call whose result is already in place answers
// "done, already", which is what makes re-running an interrupted plan safe.
//
// Content crosses between replicas only through a ContentSource: a copy asks the other side
// for the bytes of a path, never for where they live. A local directory (dir.ts), a memory
// map (memory.ts), a store-backed overlay or a remote agent can each be one.
import type { ByteString, Entry, Field, Hash } from '../tree/index.js';
import type { LinkTo } from '../merge/plan.js';
import type { OnPiece } from '../store/stream.js';

/**
 * The result of one call: done (now, or already before), or a problem at the path. A file
 * copied from the other replica comes with the content id of what was copied (hashed on the
 * way), for base to keep.
 */
export type Outcome =
  | {
      readonly ok: true;
      readonly already: boolean;
      readonly id?: Hash;
      /** Done another way than planned, said in the sync's report (a link made as a copy). */
      readonly note?: string;
    }
  | Problem;
export interface Problem {
  readonly ok: false;
  readonly reason: string;
}

export const DONE: Outcome = { ok: true, already: false };
export const ALREADY: Outcome = { ok: true, already: true };
export const problem = (reason: string): Problem => ({ ok: false, reason });

/** Where a copy reads from: the entries and bytes of one replica. */
export interface ContentSource {
  /** Names the side in messages ('local', 'server'). */
  readonly label: string;
  /** How far apart two mtimes may be and still be the same on this side. */
  readonly mtimeWindowNs: bigint;
  /** The entry now at `path` (no content id), or undefined. */
  entry(path: ByteString): Promise<Entry | undefined>;
  /** True when `path` holds `want` (null: nothing), as the plan saw it. */
  matches(path: ByteString, want: Entry | null): Promise<boolean>;
  /**
   * The file's bytes, in order, piece by piece (a piece flagged as a hole is zeros that need
   * not be written). Returns the size read.
   */
  readContent(path: ByteString, onPiece: OnPiece): Promise<number>;
  /** The content id of the file at `path`, read now. */
  hash(path: ByteString): Promise<Hash>;
  /** The whole content of the file at `path`. */
  read(path: ByteString): Promise<Buffer>;
}

/** A replica: a content source that the executor can also change, one guarded call at a time. */
export interface Replica extends ContentSource {
  /**
   * Create or replace a file or symlink at `path` with `entry`, copied from `source`; with
   * `link`, a hard link to the file at `link.to` on this side instead, where that file is as
   * expected (else a problem, re-planned) and the side makes links (else a copy, noted).
   */
  put(
    path: ByteString,
    expect: Entry | null,
    entry: Entry,
    source: ContentSource,
    fromPath: ByteString,
    link?: LinkTo,
  ): Promise<Outcome>;
  /** Create or replace a file (`data`) or symlink (`data` null: target from `entry`). */
  putData(
    path: ByteString,
    expect: Entry | null,
    entry: Entry,
    data: Buffer | null,
  ): Promise<Outcome>;
  /** Replace a file's content (an automatic text merge), keeping its metadata. */
  writeContent(path: ByteString, expect: Entry, data: Buffer, mtimeNs: bigint): Promise<Outcome>;
  /** Create a directory (or accept the one already there). */
  mkdir(path: ByteString, entry: Entry): Promise<Outcome>;
  /** Set metadata fields (mode, owner, xattrs, mtime) only. */
  setmeta(
    path: ByteString,
    expect: Entry,
    entry: Entry,
    fields: readonly Field[],
  ): Promise<Outcome>;
  /** Remove `path` (a directory only when empty). */
  delete(path: ByteString, expect: Entry): Promise<Outcome>;
  /** Rename `path` to `to` (never over something at `to`). */
  rename(path: ByteString, to: ByteString, expect: Entry, entry: Entry): Promise<Outcome>;
  /** Move the local version of a conflicted path aside to its variant name. */
  variant(path: ByteString, variantPath: ByteString, entry: Entry): Promise<Outcome>;
}

export { lastName, parentOf } from '../tree/index.js';

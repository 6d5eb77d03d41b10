// The paths of a volume's local view that may differ from base (its overlay), kept in the store
// so that a snapshot composes base ⊕ overlay without walking the volume (local-tree.ts).
//
// Records in the store's 'changed-paths' database:
//   c:PATH   PATH was written, made, removed, renamed or had its metadata changed since it last
//            equalled base (the value is empty)
//   clean    the daemon stopped cleanly: the c: records are every such path
// The daemon removes `clean` (durably) before it serves the mount, and writes it back once the
// mount is gone and every c: record is written. A daemon killed in between leaves no `clean`,
// and the next one falls back to a scan of the whole view, once. So c: records need not be
// durable before the write they describe: without `clean` they are not trusted anyway.
//
// Also kept, in memory only: the stat of each file last read for a snapshot and its content id
// (git's index rule: size, mtime, ctime, inode), so a file changed once is read once.
import { RACY_NS } from '../scan/stamp.js';
import type { BigIntStats } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { asBytes, type KvDb } from '../store/kv.js';
import type { Hash } from '../tree/index.js';
import { LocalMemo } from './local-memo.js';
import { PathKeys } from './path-key.js';

const CHANGED = Buffer.from('c:');
const KEYS = new PathKeys(CHANGED);
const CLEAN = Buffer.from('clean');
const END = Buffer.from('c;'); // the first key after every c: key

interface Stamp {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly id: Hash;
  /** The read began after this, less RACY_NS: a ctime from before vouches (see idAt). */
  readonly beforeNs: bigint;
}

/** The wall clock in nanoseconds, as file times are. */
export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

const keyOf = (path: Path): Buffer => KEYS.key(path);
const EMPTY = Buffer.alloc(0);

/** Whether `path` is `dir` or lies below it ('' holds everything). */
export function isUnder(path: Path, dir: Path): boolean {
  return dir === '' || path === dir || path.startsWith(dir + '/');
}

/**
 * Records are written this long after their note, all of them in one transaction: a create
 * through the mount notes one new path, and a transaction (a commit, with its sync) per create
 * cost more than the create itself. A record need not be durable before its write (see
 * above); markClean writes what is pending first.
 */
const BATCH_MS = 50;

export class ChangedPaths {
  /** The last local tree composed from this list, reused while still true (local-memo.ts). */
  readonly memo = new LocalMemo();
  /** Each path and the sequence number of its latest note. */
  private readonly paths = new Map<Path, number>();
  /** Records not yet written: true to put, false to remove (the latest decision wins). */
  private readonly pending = new Map<Path, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private readonly stamps = new Map<Path, Stamp>();
  private readonly writes = new Set<Promise<unknown>>();
  private seq = 0;
  /** Called at every note (the daemon's background compose waits for a pause in them). */
  onNote: (path: Path) => void = () => undefined;
  private writeError: unknown;

  private constructor(
    private readonly db: KvDb,
    /** False after a crash: the records may miss paths, and a scan must find them. */
    private completeNow: boolean,
  ) {}

  /** Load the list and take the clean mark away (durably) before anything is written. */
  static async open(db: KvDb): Promise<ChangedPaths> {
    const complete = asBytes(db.get(CLEAN)) !== undefined;
    const c = new ChangedPaths(db, complete);
    if (complete) {
      for (const { key, value } of db.getRange({ start: CHANGED, end: END })) {
        const k = asBytes(key);
        if (k !== undefined) c.paths.set(KEYS.pathOf(k, asBytes(value), 0), 0);
      }
    }
    await db.remove(CLEAN);
    return c;
  }

  get complete(): boolean {
    return this.completeNow;
  }

  /** The sequence number of the latest note: a pass that starts now sees every note up to it. */
  get now(): number {
    return this.seq;
  }

  get size(): number {
    return this.paths.size;
  }

  list(): Path[] {
    return [...this.paths.keys()];
  }

  /** `path` changed (or may have). The root's own metadata is no part of a tree: ignored. */
  note(path: Path): void {
    if (path === '') return;
    const had = this.paths.has(path);
    this.paths.set(path, ++this.seq);
    this.onNote(path);
    if (!had) this.queue(path, true);
  }

  /**
   * `path` equals base (as a pass that started at `since` found it): forgotten, unless it was
   * noted again meanwhile; for a directory, with every path below it.
   */
  forget(path: Path, since: number, isDir: boolean): void {
    if (!isDir) {
      const s = this.paths.get(path);
      if (s !== undefined && s <= since) this.drop(path);
      return;
    }
    for (const [p, s] of this.paths) if (s <= since && isUnder(p, path)) this.drop(p);
  }

  private drop(path: Path): void {
    this.paths.delete(path);
    this.stamps.delete(path);
    this.queue(path, false);
  }

  /** After a scan of the whole view: the list is exactly `paths` (noted ones kept too). */
  replace(paths: readonly Path[], since: number): void {
    const want = new Set(paths);
    for (const [p, s] of this.paths) {
      if (s <= since && !want.has(p)) {
        this.paths.delete(p);
        this.queue(p, false);
      }
    }
    for (const p of want) {
      if (!this.paths.has(p)) {
        this.paths.set(p, 0);
        this.queue(p, true);
      }
    }
    this.completeNow = true;
  }

  /** The content id read for `path` at this stat, if it was read at exactly this stat. */
  // Racy-clean (git's rule): the stat vouches only where the file's last change (its ctime)
  // lies before the read began, by a margin; a write during or just after the read would
  // otherwise keep size, mtime (set back) and a ctime in the same clock tick, and the id of
  // the bytes read before it would stand for bytes that are not there. The view's tree is
  // composed in the background while offline (pre-compose.ts), so files are often read while
  // they are still being written.
  idAt(path: Path, st: BigIntStats): Hash | undefined {
    const s = this.stamps.get(path);
    if (s === undefined) return undefined;
    const same =
      s.size === st.size &&
      s.mtimeNs === st.mtimeNs &&
      s.ctimeNs === st.ctimeNs &&
      s.ino === st.ino &&
      s.ctimeNs < s.beforeNs;
    return same ? s.id : undefined;
  }

  /** `id` was read from `path`, whose stat after the read was `st`; the read began at `readAtNs`. */
  remember(path: Path, st: BigIntStats, id: Hash, readAtNs: bigint): void {
    this.stamps.set(path, {
      size: st.size,
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
      ino: st.ino,
      id,
      beforeNs: readAtNs - RACY_NS,
    });
  }

  /** Every record written, then the clean mark (at the end of a clean stop). */
  async markClean(): Promise<void> {
    await this.settled();
    if (this.completeNow) await this.db.put(CLEAN, Buffer.alloc(0));
  }

  /** Wait for the records written so far; a failed write makes the list untrusted. */
  async settled(): Promise<void> {
    this.writePending();
    while (this.writes.size > 0) await Promise.all([...this.writes]);
    if (this.writeError !== undefined) this.completeNow = false;
  }

  private queue(path: Path, put: boolean): void {
    this.pending.set(path, put);
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.writePending();
    }, BATCH_MS);
    this.timer.unref();
  }

  /** Every pending record, issued together (one transaction). */
  private writePending(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [path, put] of this.pending) {
      this.track(
        put ? this.db.put(keyOf(path), KEYS.value(path, EMPTY)) : this.db.remove(keyOf(path)),
      );
    }
    this.pending.clear();
  }

  private track(p: Promise<unknown>): void {
    const w = p.then(
      () => undefined,
      (err: unknown) => {
        this.writeError = err;
        this.completeNow = false;
      },
    );
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
  }
}

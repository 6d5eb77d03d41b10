// Reading a partially fetched file (DESIGN decision 5): a read-only open of a placeholder some
// of whose ranges are present succeeds, and each read is checked against the range map. A read
// of present bytes is served; one touching a missing range fetches the file first while online,
// and fails offline with ENODATA, `tether why` then naming EDISCONDATA and the range.
//
// A file the cache cannot hold whole (larger than --cache-size, or the cache full of what must
// stay) is read range by range instead, online: each read fetches the chunks it touches and
// no more, and the file's ranges keep at most its share of the cache (Volume.rangeBudget), the
// least recently read given back (holes punched) to make room for the next. Offline it reads
// what is present, like any partial file. Its ranges are clean: once it is closed the cull may
// give them back too (culler.ts); while a read is served from a chunk, that chunk stays.
//
// The check follows the store, not a copy taken at open: ranges fetched later serve at once,
// and a file completed since (no longer a placeholder, same inode) reads whole. A map gone
// while the file at the path is another one (replaced, removed) leaves the open file's holes
// unreadable for good: they are zeros, not content.
import { lstatSync } from 'node:fs';
import type { ReadCheck } from '../fuse/checked-reads.js';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import type { Placeholders } from './placeholders.js';
import type { RangeStore } from './range-store.js';
import { firstGap, presentBytes, type RangeMap } from './ranges.js';
import type { WhyLog, WhyRecord } from './why.js';

/** What the checks need of the volume. */
export interface PartialSide {
  readonly placeholders: Placeholders;
  readonly ranges: RangeStore;
  readonly why: WhyLog;
  /** Now (a check made later sees the mode then). */
  readonly mode: string;
  /** Bytes per range fetched. */
  readonly rangeChunk: number;
  /** Fetch the rest of `path` (online); fails as a fetch does. */
  fetch(path: Path, op: string): Promise<void>;
  /** Whether `path` could be fetched whole into the cache. */
  fitsWhole(path: Path): boolean;
  /** Fetch bytes [start, end) of `path` (local inode `ino`) alone; fails as a fetch does. */
  fetchRange(path: Path, ino: bigint, start: number, end: number, op: string): Promise<void>;
  /** Give back bytes [start, end) of `path`'s ranges. */
  dropRange(path: Path, ino: bigint, start: number, end: number): Promise<boolean>;
  /** Bytes one file read range by range may keep. */
  rangeBudget(): number;
  describe(path: Path): string;
  onEvent(type: string, data: Record<string, unknown>): void;
}

const recordOf = (err: unknown): string | undefined =>
  (err as { record?: { name?: unknown } }).record?.name as string | undefined;

/** A fetch refused because the cache has no room (culler.ts), not because of the remote. */
const refusedForRoom = (err: unknown): boolean => recordOf(err) === 'EDISCONFULL';

/** A fetch failed for this file alone (gone, changed, or failed by the server): EIO, as is. */
const failedAlone = (err: unknown): boolean => recordOf(err) === 'EREMOTE';

function inoAt(local: Buffer, path: Path): bigint | undefined {
  try {
    return lstatSync(fsPath(local, path), { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** The reads of one partial file (path, local inode), shared by its open descriptors. */
class RangeReader {
  refs = 0;
  /** Chunk index → reads being served from it (it is not given back meanwhile). */
  private readonly leases = new Map<number, number>();
  /** Chunk index → when a read last used it (a counter). */
  private readonly used = new Map<number, number>();
  private tick = 0;
  /** Fetches and give-backs of this file, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly v: PartialSide,
    private readonly local: Buffer,
    private readonly error: (record: WhyRecord) => Error,
    readonly path: Path,
    readonly ino: bigint,
    private readonly size: number,
    /** Read range by range (the whole file cannot be cached). */
    public byRange: boolean,
  ) {}

  /** The first missing range the read meets, or undefined when it may be served. */
  private gap(pos: number, len: number): [number, number] | undefined {
    const map = this.v.ranges.of(this.path, this.ino);
    if (map !== undefined) return firstGap(map, pos, len, this.size);
    if (!this.v.placeholders.isNow(this.path) && inoAt(this.local, this.path) === this.ino) {
      return undefined;
    }
    return [pos, pos + len];
  }

  private chunksOf(pos: number, len: number): number[] {
    const c = this.v.rangeChunk;
    const end = Math.min(pos + len, this.size);
    const out: number[] = [];
    for (let i = Math.floor(pos / c); i * c < end; i++) out.push(i);
    return out;
  }

  async serve<T>(pos: number, len: number, read: () => Promise<T>): Promise<T> {
    const chunks = this.chunksOf(pos, len);
    for (const i of chunks) this.leases.set(i, (this.leases.get(i) ?? 0) + 1);
    try {
      let missing = this.gap(pos, len);
      if (missing !== undefined && this.v.mode === 'online') {
        if (!this.byRange && !this.v.fitsWhole(this.path)) this.byRange = true;
        if (!this.byRange) {
          // The rest of the file is fetched (only what is missing); its failure is the read's
          // where it is this file's. Where the cache cannot hold it, it is read by range.
          await this.v.fetch(this.path, 'read').catch((err: unknown) => {
            if (refusedForRoom(err)) this.byRange = true;
            else if (failedAlone(err)) throw err;
          });
        }
        if (this.byRange) await this.serial(() => this.fetchChunks(chunks));
        missing = this.gap(pos, len);
      }
      if (missing !== undefined) {
        const [a, b] = missing;
        const why = this.v.mode === 'online' ? 'could not be fetched' : 'the volume is offline';
        const reason = `bytes ${String(a)}–${String(b - 1)} of ${this.v.describe(this.path)} were never fetched and ${why}`;
        this.v.onEvent('data-unavailable', { path: this.path, reason, range: [a, b] });
        throw this.error(this.v.why.note(this.path, 'EDISCONDATA', 'read', reason));
      }
      for (const i of chunks) this.used.set(i, ++this.tick);
      return await read();
    } finally {
      for (const i of chunks) {
        const n = (this.leases.get(i) ?? 1) - 1;
        if (n > 0) this.leases.set(i, n);
        else this.leases.delete(i);
      }
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private map(): RangeMap | undefined {
    return this.v.ranges.of(this.path, this.ino);
  }

  /** Fetch what is missing of `chunks`, giving back older ranges of this file to make room. */
  private async fetchChunks(chunks: readonly number[]): Promise<void> {
    const c = this.v.rangeChunk;
    for (const i of chunks) {
      const [a, b] = [i * c, Math.min((i + 1) * c, this.size)];
      const map = this.map();
      if (map !== undefined && firstGap(map, a, b - a, this.size) === undefined) continue;
      if (!this.v.placeholders.isNow(this.path)) return; // fetched whole or replaced meanwhile
      await this.giveBack(this.v.rangeBudget() - (b - a));
      try {
        await this.v.fetchRange(this.path, this.ino, a, b, 'read');
      } catch (err) {
        // The cache's room is taken by content that must stay: what this file holds goes
        // first, and the fetch is tried once more.
        if (!refusedForRoom(err) || !(await this.giveBack(0))) throw err;
        await this.v.fetchRange(this.path, this.ino, a, b, 'read');
      }
    }
  }

  /**
   * Give back the least recently read chunks of this file not being read until it keeps at
   * most `keep` bytes; answers whether any was given back.
   */
  private async giveBack(keep: number): Promise<boolean> {
    const c = this.v.rangeChunk;
    let gave = false;
    for (;;) {
      const map = this.map();
      if (map === undefined || presentBytes(map) <= Math.max(0, keep)) return gave;
      let oldest: number | undefined;
      for (const [a, b] of map.ranges) {
        for (let i = Math.floor(a / c); i * c < b; i++) {
          if (this.leases.has(i)) continue;
          if (oldest === undefined || (this.used.get(i) ?? 0) < (this.used.get(oldest) ?? 0)) {
            oldest = i;
          }
        }
      }
      if (oldest === undefined) return gave;
      await this.v.dropRange(this.path, this.ino, oldest * c, (oldest + 1) * c);
      this.used.delete(oldest);
      gave = true;
    }
  }
}

/** The partial files of a volume, for its read-only opens and its `user.tether.state`. */
export class PartialReads {
  /** The readers of the partial files open now, by path. */
  private readonly readers = new Map<Path, RangeReader>();

  constructor(
    private readonly v: PartialSide,
    /** The local view. */
    private readonly local: Buffer,
    /** The error a failure record is answered with. */
    private readonly error: (record: WhyRecord) => Error,
  ) {}

  /** The placeholder at `path` (its inode and size), if it is one; with some bytes present. */
  private now(path: Path, anyBytes = false): { ino: bigint; size: number } | undefined {
    let st;
    try {
      st = lstatSync(fsPath(this.local, path), { bigint: true });
    } catch {
      return undefined;
    }
    if (!this.v.placeholders.is(path, st.ino)) return undefined;
    if (!anyBytes) {
      const map = this.v.ranges.of(path, st.ino);
      if (map === undefined || presentBytes(map) === 0) return undefined;
    }
    return { ino: st.ino, size: Number(st.size) };
  }

  /** How reads of the placeholder `path` are served: `byRange`, or as a partial file. */
  private reader(path: Path, at: { ino: bigint; size: number }, byRange: boolean): ReadCheck {
    let r = this.readers.get(path);
    if (r?.ino !== at.ino) {
      r = new RangeReader(this.v, this.local, this.error, path, at.ino, at.size, byRange);
      this.readers.set(path, r);
    }
    r.byRange ||= byRange;
    const reader = r;
    reader.refs++;
    let open = true;
    return {
      serve: (pos, len, read) => reader.serve(pos, len, read),
      close: () => {
        if (!open) return;
        open = false;
        if (--reader.refs === 0 && this.readers.get(path) === reader) this.readers.delete(path);
      },
    };
  }

  /** How reads of `path` are checked, if it is a partial file now. */
  open(path: Path): ReadCheck | undefined {
    const p = this.now(path);
    return p === undefined ? undefined : this.reader(path, p, false);
  }

  /** Reads of the placeholder `path` served range by range, if it is one. */
  private byRange(path: Path): ReadCheck | undefined {
    const p = this.now(path, true);
    return p === undefined ? undefined : this.reader(path, p, true);
  }

  has(path: Path): boolean {
    return this.now(path) !== undefined;
  }

  /**
   * For a read-only open: the content made present (fetched), or, where some of it is here and
   * the rest cannot come (offline, or the fetch failed), how each read is checked; a file the
   * cache cannot hold whole is read range by range (online).
   */
  async presentToRead(path: Path, op: string): Promise<ReadCheck | undefined> {
    if (this.v.mode !== 'online') {
      const p = this.open(path);
      if (p !== undefined) return p;
    } else if (!this.v.fitsWhole(path)) {
      const p = this.byRange(path);
      if (p !== undefined) return p;
    }
    try {
      await this.v.fetch(path, op);
      return undefined;
    } catch (err) {
      const p =
        this.v.mode === 'online' && refusedForRoom(err) ? this.byRange(path) : this.open(path);
      if (p === undefined) throw err;
      return p;
    }
  }
}

// A volume's fetches of placeholders' content (DESIGN decision 11): whole (a fetch per path at
// a time, room made in the cache first), or by ranges for a file read range by range
// (partial-reads.ts), one fetch or eviction of a path's ranges at a time. A fetch the server
// fails for the file alone fails that request; the remote failing takes the volume offline.
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import {
  failedForTheFile,
  fetchInPlace,
  localRangeSource,
  resumedLine,
  withDeadline,
} from './fetch.js';
import { policyFromEnv, type FetchOutcome, type RangeSource } from './partial-fetch.js';
import { punchHole } from './range-copy.js';
import { emptyMap, presentBytes, withoutRange, withRange, type RangeMap } from './ranges.js';
import { askRoot, faultOf } from './remote-fault.js';
import type { Volume } from './volume.js';
import type { WhyRecord } from './why.js';

export class VolumeFetch {
  private readonly fetching = new Map<Path, Promise<void>>();
  /** Fetches and evictions of ranges under way, by path: one at a time per path. */
  private readonly rangeLocks = new Map<Path, Promise<void>>();
  private readonly fetchPolicy = policyFromEnv();
  private readonly localBuf: Buffer;

  constructor(
    private readonly v: Volume,
    private readonly remoteBuf: Buffer,
    private readonly log: (line: string) => void,
    /** The volume's sync under way (its end, however it ends), if one is. */
    private readonly syncInFlight: () => Promise<void> | undefined,
    /** The error the mount answers for a `tether why` record (VolumeError). */
    private readonly refusal: (r: WhyRecord) => Error,
  ) {
    this.localBuf = Buffer.from(v.local);
  }

  /** Make a placeholder's content present (online: fetched; offline: EDISCONDATA). */
  async fetch(path: Path, op: string): Promise<void> {
    const r = this.v.placeholders.recordNow(path);
    if (r === undefined) return;
    if (this.v.mode !== 'online') throw this.unfetchedOffline(path, op);
    let p = this.fetching.get(path);
    if (p === undefined) {
      p = this.fetchNow(path, r.origin, op).finally(() => this.fetching.delete(path));
      this.fetching.set(path, p);
    }
    await p;
  }

  /** Fetch the placeholder `path`: base's file at `origin` (where it was before a rename). */
  private async fetchNow(path: Path, origin: Path, op: string): Promise<void> {
    // A refusal (EDISCONFULL) is the cache's, not the remote's.
    const release = await this.v.beforeFetch(path, () => this.fetchNeed(path, origin), op);
    try {
      await this.withRanges(path, () => this.fetchRoomHeld(path, origin, op));
    } finally {
      release();
    }
  }

  /**
   * What fetching the placeholder `path` whole adds to the cache: its size in the view and
   * again as a blob in the store, less what a partial fetch has in the view already.
   */
  private fetchNeed(path: Path, origin: Path): number {
    const size = this.v.baseEntry(origin)?.size ?? 0;
    const map = this.v.ranges.get(path);
    const present = map === undefined ? 0 : presentBytes(map);
    return Math.max(0, 2 * size - present);
  }

  /** Whether the placeholder `path` could be fetched whole into the cache (see wholeFits). */
  fitsWhole(path: Path): boolean {
    if (this.v.wholeFits === undefined) return true;
    const r = this.v.placeholders.recordNow(path);
    return r === undefined || this.v.wholeFits(path, this.fetchNeed(path, r.origin));
  }

  /** Bytes per range request of a fetch. */
  get rangeChunk(): number {
    return this.fetchPolicy.chunk;
  }

  private rangeSource(op = ''): RangeSource {
    return (
      this.v.remoteIo?.rangesFor(op) ??
      localRangeSource(this.remoteBuf, this.localBuf, this.v.times.fetchDeadlineMs)
    );
  }

  /**
   * Bytes [start, end) of the placeholder `path` (local inode `ino`) fetched alone and recorded
   * in its range map, for a file read range by range (partial-reads.ts); room for them is made
   * first, or the fetch is refused (EDISCONFULL). Fails as a fetch does.
   */
  async fetchRange(path: Path, ino: bigint, start: number, end: number, op: string): Promise<void> {
    const r = this.v.placeholders.recordNow(path);
    if (r === undefined) return;
    if (this.v.mode !== 'online') throw this.unfetchedOffline(path, op, [start, end]);
    const release = await this.v.beforeFetch(path, () => end - start, op);
    try {
      await this.withRanges(path, async () => {
        const src = this.rangeSource();
        const map = await this.copyRange(src, path, ino, start, end, r.origin).catch(
          async (err: unknown) => {
            throw await this.fetchFailed(path, err, op);
          },
        );
        const to = Math.min(end, map.size);
        await this.v.ranges.put(path, withRange(this.v.ranges.of(path, ino) ?? map, start, to));
      });
    } finally {
      this.v.onRanges(path);
      release();
    }
  }

  /** Bytes [start, end) of the server file copied into `path`; answers the map they belong to. */
  private async copyRange(
    src: RangeSource,
    path: Path,
    ino: bigint,
    start: number,
    end: number,
    origin: Path,
  ): Promise<RangeMap> {
    let map = this.v.ranges.of(path, ino);
    if (map === undefined) {
      map = emptyMap(await src.stamp(path, origin), ino);
      await this.v.ranges.put(path, map);
    }
    const to = Math.min(end, map.size);
    if (to > start)
      await src.copy(path, start, to, { size: map.size, mtimeNs: map.mtimeNs }, origin);
    return map;
  }

  /**
   * Give back bytes [start, end) of the placeholder `path` (local inode `ino`): missing again
   * in its map first, then their blocks freed, so no map ever claims a hole. `whenIdle`: only
   * if no fetch of its ranges is under way (answers whether it was done).
   */
  async dropRange(
    path: Path,
    ino: bigint,
    start: number,
    end: number,
    whenIdle = false,
  ): Promise<boolean> {
    if (whenIdle && this.rangeLocks.has(path)) return false;
    await this.withRanges(path, async () => {
      const map = this.v.ranges.of(path, ino);
      if (map === undefined) return;
      const left = withoutRange(map, start, end);
      if (left.ranges.length === 0) await this.v.ranges.remove(path);
      else await this.v.ranges.put(path, left);
      await punchHole(fsPath(this.localBuf, path), start, end - start);
    });
    this.v.onRanges(path);
    return true;
  }

  /** Run `fn` while no other fetch or eviction of `path`'s ranges runs. */
  private async withRanges<T>(path: Path, fn: () => Promise<T>): Promise<T> {
    for (let held = this.rangeLocks.get(path); held !== undefined;) {
      await held;
      held = this.rangeLocks.get(path);
    }
    let end!: () => void;
    this.rangeLocks.set(path, new Promise<void>((r) => (end = r)));
    try {
      return await fn();
    } finally {
      this.rangeLocks.delete(path);
      end();
    }
  }

  /** The refusal of a fetch of `path` (or of its bytes `range`) while the volume is offline. */
  private unfetchedOffline(path: Path, op: string, range?: [number, number]): Error {
    const reason = `${this.v.describe(path)} was never fetched and the volume is offline`;
    this.v.onEvent('data-unavailable', { path, reason, ...(range === undefined ? {} : { range }) });
    return this.refusal(this.v.why.note(path, 'EDISCONDATA', op, reason));
  }

  /** Whether the server answers now (its root, asked of the server itself: remote-fault.ts). */
  async serverAnswers(): Promise<void> {
    if (this.v.remoteIo !== undefined) await this.v.remoteIo.probe(true);
    else await withDeadline(askRoot(this.v.remote, true), this.v.times.fetchDeadlineMs, 'probe');
  }

  /**
   * The error a failed fetch of `path` is answered with. A file gone or changed on the server,
   * or one the server fails alone while it answers (remote-fault.ts), fails this request (EIO,
   * EREMOTE in `tether why`); the remote failing takes the volume offline (ENODATA).
   */
  private async fetchFailed(path: Path, err: unknown, op: string): Promise<Error> {
    const message = `${this.v.describe(path)} could not be fetched: ${(err as Error).message}`;
    if (failedForTheFile(err)) {
      // Gone or changed on the server since the last pull: the next one brings it here.
      this.v.changed();
      return this.refusal(this.v.why.note(path, 'EREMOTE', op, message));
    }
    if ((await faultOf(err, () => this.serverAnswers())) === 'file') {
      const reason = `${message} (the server answers: this file alone failed, the volume stays online)`;
      this.log(reason);
      this.v.onEvent('data-unavailable', { path, reason });
      return this.refusal(this.v.why.note(path, 'EREMOTE', op, reason));
    }
    await this.v.goOffline(message);
    this.v.onEvent('data-unavailable', { path, reason: message });
    return this.refusal(this.v.why.note(path, 'EDISCONDATA', op, message));
  }

  private async fetchRoomHeld(path: Path, origin: Path, op: string, again = false): Promise<void> {
    const dst = fsPath(this.localBuf, path);
    let got: FetchOutcome;
    try {
      const source = this.rangeSource(op);
      got = await fetchInPlace(
        source,
        this.v.ranges,
        this.localBuf,
        path,
        this.fetchPolicy,
        origin,
      );
    } catch (err) {
      const sync = this.syncInFlight();
      if (!again && sync !== undefined && failedForTheFile(err)) {
        // A sync under way may be moving this file on the server (a rename flushed, base not
        // moved yet): once it ends, the file is fetched from where base then has it, or is no
        // placeholder any more.
        await sync;
        const r = this.v.placeholders.recordNow(path);
        if (r === undefined) return;
        return this.fetchRoomHeld(path, r.origin, op, true);
      }
      throw await this.fetchFailed(path, err, op);
    }
    const resumed = resumedLine(this.v.describe(path), got);
    if (resumed !== undefined) this.log(resumed);
    // Every name of the inode has the content now (hard links share it).
    await this.v.placeholders.removeInode(path);
    await this.v.ranges.remove(path);
    this.v.onLocalWrite([path]);
    this.v.viewChanged([path]);
    this.v.onFetched(path);
    // Base's content, as fetched: kept in the store, and base learns its id (a later text
    // merge needs base's bytes; MERGE.md rule P).
    this.v.learner.fetched(
      origin,
      dst,
      got.stamp,
      (line) => {
        this.log(`${this.v.describe(path)}: ${line}`);
      },
      got.id,
    );
  }
}

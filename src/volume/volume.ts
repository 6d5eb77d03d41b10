// A mounted volume: one remote bound to one store, with the local view (S/local) that the
// mount serves. Every operation applies to the local view first (DESIGN decision 1); online,
// the daemon then flushes through the shared engine (sync-dirs' scan → merge → apply, with
// the local view as replica A and the remote as B) a moment after the last change, at fsync,
// and periodically to pull the server's changes. Apply re-checks every target before writing,
// so a flush never overwrites a server change it did not see: that becomes a conflict with a
// variant, as on reconnect. A remote failure during a flush is not the application's: the
// change stays local and the volume goes offline.
//
// Syncs, fetches' bookkeeping and resolves run one at a time (exclusive): the store has one
// writer, the daemon.
import { performance } from 'node:perf_hooks';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import type { Entry } from '../tree/index.js';
import { isAuthTrouble } from '../sync/auth-trouble.js';
import { checkBinding, readBinding } from '../sync/binding.js';
import { ConflictStore } from '../sync/conflict-store.js';
import { fsPath } from '../scan/fs-entry.js';
import { asBytes, REF_BASE } from '../store/kv.js';
import { resolveConflict, type Take } from '../sync/resolve.js';
import { resolveEnvOf } from '../sync/resolve-session.js';
import { conflictPathOf } from '../sync/conflict-path.js';
import { lookup } from '../merge/tree-edit.js';
import type { SyncPhase, SyncSummary } from '../sync/sync-dirs.js';
import type { ReadCheck } from '../fuse/checked-reads.js';
import { syncVolume, type Composed } from './volume-sync.js';
import {
  failedForTheFile,
  fetchInPlace,
  localRangeSource,
  resumedLine,
  withDeadline,
} from './fetch.js';
import { policyFromEnv, type FetchOutcome, type RangeSource } from './partial-fetch.js';
import { PartialReads } from './partial-reads.js';
import { punchHole } from './range-copy.js';
import { RangeStore } from './range-store.js';
import { emptyMap, presentBytes, withoutRange, withRange, type RangeMap } from './ranges.js';
import { askRoot, faultOf } from './remote-fault.js';
import { localDirOf } from './layout.js';
import { materialise, scanHere, type FirstScan } from './materialise.js';
import { BaseIdLearner } from './learn-ids.js';
import { Placeholders } from './placeholders.js';
import type { CacheUse } from './cache-use.js';
import { pathsStatus, pathState, type PathState } from './volume-state.js';
import type { RemoteIo } from './remote-io.js';
import { WhyLog, type WhyRecord } from './why.js';
import { ViewChanges, type ViewListener } from './view-changes.js';
import { authRequired, MODE_TEXT, modeOf, type Mode, type OfflineCause } from './volume-mode.js';

export type { PathState };
export type { Mode, OfflineCause };
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

const MODE_KEY = Buffer.from('mode');

/** An error the mount answers with `errno`; `why` says which tether condition it was. */
export class VolumeError extends TetherError {
  constructor(readonly record: WhyRecord) {
    super('EIO', record.message, { why: record.name }, { errno: record.errno });
  }
}

export class Volume {
  readonly local: string;
  readonly placeholders: Placeholders;
  /** What of each placeholder has been fetched so far (partial content). */
  readonly ranges: RangeStore;
  private readonly partial: PartialReads;
  readonly why = new WhyLog();
  readonly conflicts: ConflictStore;
  private readonly viewChanges = new ViewChanges();
  private modeNow: Mode;
  private causeNow: OfflineCause = 'manual';
  /** The remote agent that makes every call on the remote (unset: calls made in-process). */
  remoteIo: RemoteIo | undefined;
  /** Mode changes, syncs, conflicts and data unavailable, as events (events.ts keeps them). */
  onEvent: VolumeEvent = () => undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private pullTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private busy = 0;
  private readonly fetching = new Map<Path, Promise<void>>();
  /** Base learns fetched files' ids (and forgets evicted ones'). */
  readonly learner: BaseIdLearner;
  private lastSync: VolumeStatus['lastSync'];
  private lastError: string | undefined;
  private closed = false;
  private readonly localBuf: Buffer;
  private readonly remoteBuf: Buffer;
  private readonly fetchPolicy = policyFromEnv();
  /** Called with the paths of the view a sync or a resolve wrote (changed-paths.ts). */
  onLocalWrite: (paths: readonly Path[]) => void = () => undefined;
  /** Called after a sync or a resolve wrote the view or the store (the cache's use moved). */
  onSynced: () => void = () => undefined;
  /** Called with each path whose content a fetch made present (the cache grew). */
  onFetched: (path: Path) => void = () => undefined;
  /**
   * Before a fetch of `path` that will add about `need` bytes to the cache: room is made, or
   * the fetch is refused (culler.ts). Answers the release of the room held for it.
   */
  beforeFetch: (path: Path, need: () => number, op: string) => Promise<() => void> = () =>
    Promise.resolve(() => undefined);
  /**
   * Whether `need` bytes of `path`'s content could be cached at all (culler.ts): where not, a
   * read fetches only the ranges it reads (partial-reads.ts). Unset: the cache has no limit
   * (every file fits, and a read-only open asks nothing more).
   */
  wholeFits: ((path: Path, need: number) => boolean) | undefined;
  /** Bytes the ranges of one file read range by range may keep in the cache. */
  rangeBudget: () => number = () => Infinity;
  /** Called with each path whose ranges a read fetched or gave back (the cache moved). */
  onRanges: (path: Path) => void = () => undefined;
  /** Fetches and evictions of ranges under way, by path: one at a time per path. */
  private readonly rangeLocks = new Map<Path, Promise<void>>();
  /** The view's tree without walking it, where the daemon can compose one (local-tree.ts). */
  composeLocal: () => Promise<Composed | undefined> = () => Promise.resolve(undefined);

  private constructor(
    readonly store: Store,
    readonly storeDir: string,
    readonly remote: string,
    readonly times: VolumeTimes,
    /** Called with every mode switch and sync outcome (the daemon logs them). */
    private readonly log: (line: string) => void,
  ) {
    this.local = localDirOf(storeDir);
    this.localBuf = Buffer.from(this.local);
    this.remoteBuf = Buffer.from(remote);
    this.placeholders = new Placeholders(store.db('volume'), this.localBuf);
    this.ranges = new RangeStore(store.db('volume'));
    this.partial = new PartialReads(this, this.localBuf, (r) => new VolumeError(r));
    this.conflicts = new ConflictStore(store.db('conflicts'));
    this.learner = new BaseIdLearner(
      store,
      (path) => this.baseEntry(path),
      (fn) => this.exclusive(fn),
    );
    const m = asBytes(store.db('volume').get(MODE_KEY))?.toString();
    ({ mode: this.modeNow, cause: this.causeNow } = modeOf(m));
  }

  /**
   * Open the volume of `store`, binding it to `remote` (and materialising it) on first use,
   * with the first scan made by `scan` (a daemon's: its remote agent's).
   */
  static async open(
    store: Store,
    storeDir: string,
    remote: string,
    times: VolumeTimes = DEFAULT_TIMES,
    log: (line: string) => void = () => undefined,
    scan: FirstScan = scanHere(store, remote),
  ): Promise<Volume> {
    const local = localDirOf(storeDir);
    const bound = readBinding(store);
    if (bound !== undefined && (bound.local !== local || bound.server !== remote)) {
      throw new TetherError(
        'EUSAGE',
        bound.local === local
          ? `the store ${storeDir} belongs to the remote ${bound.server}, not ${remote}: mount ${bound.server} with it, or give another --store`
          : `the store ${storeDir} is a sync-dirs store (${bound.local} with ${bound.server}), not a volume: give another --store`,
        { bound, remote },
      );
    }
    await checkBinding(store, { local, server: remote }, true);
    const v = new Volume(store, storeDir, remote, times, log);
    if (store.getRef(REF_BASE) === undefined) {
      const m = await materialise(store, scan, local, v.placeholders);
      log(`first mount: ${m.files} files, ${m.dirs} directories, all remote-only`);
    }
    return v;
  }

  get mode(): Mode {
    return this.modeNow;
  }

  /** Tell the mount that the volume changed these paths underneath it. */
  viewChanged(paths: readonly Path[]): void {
    this.viewChanges.emit(paths);
  }

  /** Calls `fn` with each path the volume changes in its view underneath the mount. */
  onViewChanged(fn: ViewListener): () => void {
    return this.viewChanges.on(fn);
  }

  /** Start the volume's timers (the periodic pull while online). */
  start(): void {
    if (this.modeNow === 'online') this.startPull();
  }

  get offlineCause(): OfflineCause {
    return this.causeNow;
  }

  async goOffline(reason: string, cause: OfflineCause = 'failure'): Promise<void> {
    // Only a refusal turns one offline into another: it says what the user must do.
    if (this.modeNow === 'offline' && (cause !== 'auth' || this.causeNow === 'auth')) return;
    this.modeNow = 'offline';
    this.causeNow = cause;
    this.stopTimers();
    const text = MODE_TEXT[cause];
    await this.store.db('volume').put(MODE_KEY, Buffer.from(text));
    this.log(`${text}: ${reason}`);
    this.onEvent(cause === 'auth' ? 'auth-required' : 'mode', { mode: text, reason });
  }

  /** Reconnect: one sync through the engine, then online. Stays offline if it fails. */
  async goOnline(): Promise<SyncSummary> {
    return this.exclusive(async () => {
      const s = await this.syncNow(false).catch(async (err: unknown) => {
        if (!isAuthTrouble(err)) throw err;
        await this.goOffline((err as Error).message, 'auth');
        throw authRequired(err);
      });
      this.modeNow = 'online';
      await this.store.db('volume').put(MODE_KEY, Buffer.from('online'));
      this.startPull();
      this.log(`online: ${s.applied} actions applied, ${s.open} conflicts open`);
      this.onEvent('mode', { mode: 'online' });
      return s;
    });
  }

  /** `tether sync`: a three-way merge now (online only, but for a dry run). */
  async sync(dryRun: boolean): Promise<SyncSummary> {
    if (this.modeNow !== 'online' && !dryRun) {
      throw new TetherError(
        'EUSAGE',
        'the volume is offline: run "tether online" to reconnect (it syncs), or "tether sync --dry-run" to see the plan',
      );
    }
    return this.exclusive(() => this.syncNow(dryRun));
  }

  /** Something changed in the local view: flush soon (online). */
  changed(): void {
    this.dirty = true;
    if (this.modeNow !== 'online' || this.closed) return;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.background();
    }, this.times.flushDelayMs);
  }

  /** Answers after a flush that started after the call (fsync); never fails for the remote. */
  async flushCovering(): Promise<void> {
    if (this.modeNow !== 'online') return;
    await this.background();
  }

  /** For a read-only open: see PartialReads.presentToRead. */
  fetchToRead(path: Path, op: string): Promise<ReadCheck | undefined> {
    return this.partial.presentToRead(path, op);
  }

  /** Make a placeholder's content present (online: fetched; offline: EDISCONDATA). */
  async fetch(path: Path, op: string): Promise<void> {
    const r = this.placeholders.recordNow(path);
    if (r === undefined) return;
    if (this.modeNow !== 'online') throw this.unfetchedOffline(path, op);
    let p = this.fetching.get(path);
    if (p === undefined) {
      p = this.fetchNow(path, r.origin, op).finally(() => this.fetching.delete(path));
      this.fetching.set(path, p);
    }
    await p;
  }

  /** The name `path` no longer holds what it held: it is no placeholder now. */
  async forget(path: Path): Promise<void> {
    await this.placeholders.remove(path);
    await this.ranges.remove(path);
  }

  /** The file at `path` is being truncated to nothing: no name of it is a placeholder now. */
  async emptied(path: Path): Promise<void> {
    await this.placeholders.removeInode(path);
    await this.ranges.remove(path);
  }

  /** Resolve the conflict `arg` names (a path in the volume, or its variant's name). */
  async resolve(arg: string, take: Take): Promise<string> {
    return this.exclusive(async () => {
      const env = resolveEnvOf(this.store, this.storeDir);
      const path = conflictPathOf(env, arg, this.local);
      const variant = this.conflicts.list().find((c) => c.path === path)?.variantPath;
      const r = await resolveConflict(env, path, take);
      const touched = variant === undefined ? [path] : [path, variant];
      this.onLocalWrite(touched);
      this.viewChanges.emit(touched);
      this.onSynced();
      if (this.modeNow === 'online') this.changed();
      return r.resolution;
    });
  }

  /** A placeholder some of whose content has been fetched (it reads where that is). */
  isPartial(path: Path): boolean {
    return this.partial.has(path);
  }

  /** The state a path shows as `user.tether.state`, and its content id where known. */
  stateOf(path: Path): Promise<{ state: PathState; id?: string }> {
    return pathState(this, path);
  }

  async status(): Promise<VolumeStatus> {
    return {
      mode: this.modeNow,
      remote: this.remote,
      store: this.storeDir,
      ...(await pathsStatus(this, this.storeDir)),
      ...(this.lastSync === undefined ? {} : { lastSync: this.lastSync }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Stop the timers and, online, flush what is dirty (a failure leaves it local). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimers();
    if (this.modeNow === 'online' && this.dirty) await this.background();
    await this.chain.catch(() => undefined);
  }

  /** Fetch the placeholder `path`: base's file at `origin` (where it was before a rename). */
  private async fetchNow(path: Path, origin: Path, op: string): Promise<void> {
    // A refusal (EDISCONFULL) is the cache's, not the remote's.
    const release = await this.beforeFetch(path, () => this.fetchNeed(path, origin), op);
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
    const size = this.baseEntry(origin)?.size ?? 0;
    const map = this.ranges.get(path);
    const present = map === undefined ? 0 : presentBytes(map);
    return Math.max(0, 2 * size - present);
  }

  /** Whether the placeholder `path` could be fetched whole into the cache (see wholeFits). */
  fitsWhole(path: Path): boolean {
    if (this.wholeFits === undefined) return true;
    const r = this.placeholders.recordNow(path);
    return r === undefined || this.wholeFits(path, this.fetchNeed(path, r.origin));
  }

  /** Bytes per range request of a fetch. */
  get rangeChunk(): number {
    return this.fetchPolicy.chunk;
  }

  private rangeSource(op = ''): RangeSource {
    return (
      this.remoteIo?.rangesFor(op) ??
      localRangeSource(this.remoteBuf, this.localBuf, this.times.fetchDeadlineMs)
    );
  }

  /**
   * Bytes [start, end) of the placeholder `path` (local inode `ino`) fetched alone and recorded
   * in its range map, for a file read range by range (partial-reads.ts); room for them is made
   * first, or the fetch is refused (EDISCONFULL). Fails as a fetch does.
   */
  async fetchRange(path: Path, ino: bigint, start: number, end: number, op: string): Promise<void> {
    const r = this.placeholders.recordNow(path);
    if (r === undefined) return;
    if (this.modeNow !== 'online') throw this.unfetchedOffline(path, op, [start, end]);
    const release = await this.beforeFetch(path, () => end - start, op);
    try {
      await this.withRanges(path, async () => {
        const src = this.rangeSource();
        const map = await this.copyRange(src, path, ino, start, end, r.origin).catch(
          async (err: unknown) => {
            throw await this.fetchFailed(path, err, op);
          },
        );
        const to = Math.min(end, map.size);
        await this.ranges.put(path, withRange(this.ranges.of(path, ino) ?? map, start, to));
      });
    } finally {
      this.onRanges(path);
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
    let map = this.ranges.of(path, ino);
    if (map === undefined) {
      map = emptyMap(await src.stamp(path, origin), ino);
      await this.ranges.put(path, map);
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
      const map = this.ranges.of(path, ino);
      if (map === undefined) return;
      const left = withoutRange(map, start, end);
      if (left.ranges.length === 0) await this.ranges.remove(path);
      else await this.ranges.put(path, left);
      await punchHole(fsPath(this.localBuf, path), start, end - start);
    });
    this.onRanges(path);
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
  private unfetchedOffline(path: Path, op: string, range?: [number, number]): VolumeError {
    const reason = `${this.describe(path)} was never fetched and the volume is offline`;
    this.onEvent('data-unavailable', { path, reason, ...(range === undefined ? {} : { range }) });
    return new VolumeError(this.why.note(path, 'EDISCONDATA', op, reason));
  }

  /** Whether the server answers now (its root, asked of the server itself: remote-fault.ts). */
  async serverAnswers(): Promise<void> {
    if (this.remoteIo !== undefined) await this.remoteIo.probe(true);
    else await withDeadline(askRoot(this.remote, true), this.times.fetchDeadlineMs, 'probe');
  }

  /**
   * The error a failed fetch of `path` is answered with. A file gone or changed on the server,
   * or one the server fails alone while it answers (remote-fault.ts), fails this request (EIO,
   * EREMOTE in `tether why`); the remote failing takes the volume offline (ENODATA).
   */
  private async fetchFailed(path: Path, err: unknown, op: string): Promise<VolumeError> {
    const message = `${this.describe(path)} could not be fetched: ${(err as Error).message}`;
    if (failedForTheFile(err)) {
      // Gone or changed on the server since the last pull: the next one brings it here.
      this.changed();
      return new VolumeError(this.why.note(path, 'EREMOTE', op, message));
    }
    if ((await faultOf(err, () => this.serverAnswers())) === 'file') {
      const reason = `${message} (the server answers: this file alone failed, the volume stays online)`;
      this.log(reason);
      this.onEvent('data-unavailable', { path, reason });
      return new VolumeError(this.why.note(path, 'EREMOTE', op, reason));
    }
    await this.goOffline(message);
    this.onEvent('data-unavailable', { path, reason: message });
    return new VolumeError(this.why.note(path, 'EDISCONDATA', op, message));
  }

  private async fetchRoomHeld(path: Path, origin: Path, op: string, again = false): Promise<void> {
    const dst = fsPath(this.localBuf, path);
    let got: FetchOutcome;
    try {
      const source = this.rangeSource(op);
      got = await fetchInPlace(source, this.ranges, this.localBuf, path, this.fetchPolicy, origin);
    } catch (err) {
      const sync = this.syncInFlight;
      if (!again && sync !== undefined && failedForTheFile(err)) {
        // A sync under way may be moving this file on the server (a rename flushed, base not
        // moved yet): once it ends, the file is fetched from where base then has it, or is no
        // placeholder any more.
        await sync;
        const r = this.placeholders.recordNow(path);
        if (r === undefined) return;
        return this.fetchRoomHeld(path, r.origin, op, true);
      }
      throw await this.fetchFailed(path, err, op);
    }
    const resumed = resumedLine(this.describe(path), got);
    if (resumed !== undefined) this.log(resumed);
    // Every name of the inode has the content now (hard links share it).
    await this.placeholders.removeInode(path);
    await this.ranges.remove(path);
    this.onLocalWrite([path]);
    this.viewChanges.emit([path]);
    this.onFetched(path);
    // Base's content, as fetched: kept in the store, and base learns its id (a later text
    // merge needs base's bytes; MERGE.md rule P).
    this.learner.fetched(origin, dst, got.stamp, (line) => {
      this.log(`${this.describe(path)}: ${line}`);
    });
  }

  /** `path` as messages name it. */
  describe(path: Path): string {
    return path === '' ? 'the volume root' : JSON.stringify(Buffer.from(path, 'latin1').toString());
  }

  /** Base's entry at `path` (the root's is made up), if base has one. */
  baseEntry(path: Path): Entry | undefined {
    const base = this.store.getRef(REF_BASE);
    if (base === undefined) return undefined;
    if (path === '')
      return { name: '', kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: 0n, id: base };
    return lookup(this.store, base, path);
  }

  /** Run `fn` between syncs, resolves and fetches' bookkeeping (they write base and the view). */
  between<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(fn);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** `quiet`: a background flush or pull, an event only when it changed something. */
  private async syncNow(dryRun: boolean, quiet = false): Promise<SyncSummary> {
    const dir = process.env['TETHER_PROFILE_SYNC'];
    if (dir !== undefined && dir !== '' && !dryRun) {
      // The daemon's side of a sync, profiled as the agent profiles its own (agent/profile.ts).
      const { profiled } = await import('../agent/profile.js');
      return profiled(dir, () => this.syncTimed(dryRun, quiet), 'daemon');
    }
    const run = this.syncTimed(dryRun, quiet);
    if (dryRun) return run;
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.syncInFlight = settled;
    void settled.then(() => {
      if (this.syncInFlight === settled) this.syncInFlight = undefined;
    });
    return run;
  }

  /** The sync under way (its end, however it ends), for a fetch that met the server mid-change. */
  private syncInFlight: Promise<void> | undefined;

  private async syncTimed(dryRun: boolean, quiet: boolean): Promise<SyncSummary> {
    this.busy++;
    try {
      if (!dryRun) this.dirty = false;
      // Where a sync's time goes, for the log: each phase's milliseconds.
      const phases: string[] = [];
      let at = performance.now();
      // compose: the view's tree from the changed-path list; start: the agent's checks up to
      // its scan; post: the daemon's bookkeeping after the agent answered.
      let phase = 'compose';
      if (!dryRun && !quiet) this.onEvent('sync-start', {});
      const onPhase = (p: SyncPhase | 'start'): void => {
        const now = performance.now();
        phases.push(`${phase} ${Math.round(now - at)}`);
        phase = p;
        at = now;
      };
      const composed = await this.composeLocal();
      onPhase('start');
      const s =
        this.remoteIo !== undefined
          ? await this.remoteIo.sync(dryRun, onPhase, composed)
          : await syncVolume(this.store, this.local, this.remote, {
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
          this.log(`${this.describe(l.path)} removed: ${l.reason}`);
          this.onEvent('data-unavailable', { path: l.path, reason: l.reason });
        }
        this.onLocalWrite(touched);
        if (s.applied > 0) {
          await this.placeholders.pruneAt(touched);
          await this.ranges.pruneAt(touched, (p) => this.placeholders.isNow(p));
        }
        this.viewChanges.emit(touched);
        if (s.applied > 0) {
          this.onSynced();
          phases.push(`post ${Math.round(performance.now() - at)}`);
          this.log(`sync phases (ms): ${phases.join(', ')}`);
        }
        this.lastSync = { at: Date.now(), applied: s.applied, conflicts: s.open };
        this.lastError = undefined;
        for (const c of s.conflicts) this.onEvent('conflict', { path: c.path, kind: c.kind });
        for (const n of s.notes) this.log(n.note);
        if (!quiet || s.applied > 0 || s.conflicts.length > 0) {
          this.onEvent('sync-finish', {
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
      if (!dryRun) this.onEvent('sync-failed', { message: this.lastError });
      throw err;
    } finally {
      this.busy--;
    }
  }

  /**
   * A flush or pull; a failure of the remote takes the volume offline and keeps the changes
   * local.
   */
  private background(): Promise<void> {
    return this.exclusive(async () => {
      if (this.modeNow !== 'online') return;
      try {
        const s = await this.syncNow(false, true);
        if (s.applied > 0 || s.conflicts.length > 0) {
          this.log(`sync: ${s.applied} actions applied, ${s.open} conflicts open`);
        }
      } catch (err) {
        const message = `a sync failed: ${(err as Error).message}`;
        if (isAuthTrouble(err)) {
          await this.goOffline(message, 'auth');
          return;
        }
        // A failure the server answered while it answers a fresh probe is some file's (one
        // directory failing on the server's disk, say), not an outage (remote-fault.ts): the
        // volume stays online, the failure is kept for status, and the next flush or pull
        // tries again.
        if ((await faultOf(err, () => this.serverAnswers())) === 'file') {
          this.log(`${message} (the server answers: the volume stays online and retries)`);
          return;
        }
        await this.goOffline(message);
      }
    });
  }

  private startPull(): void {
    if (this.pullTimer !== undefined || this.closed) return;
    this.pullTimer = setInterval(() => {
      if (this.busy === 0 && this.flushTimer === undefined) void this.background();
    }, this.times.pullEveryMs);
  }

  private stopTimers(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.pullTimer !== undefined) clearInterval(this.pullTimer);
    this.flushTimer = undefined;
    this.pullTimer = undefined;
  }
}

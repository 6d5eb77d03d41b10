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
//
// A placeholder's content is fetched by volume-fetch.ts; each sync is run and booked by
// volume-syncs.ts, and started on its own by the timers of sync-timers.ts.
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import type { Entry } from '../tree/index.js';
import { isAuthTrouble } from '../sync/auth-trouble.js';
import { checkBinding, readBinding } from '../sync/binding.js';
import { ConflictStore } from '../sync/conflict-store.js';
import { asBytes, REF_BASE } from '../store/kv.js';
import { resolveConflict, type Take } from '../sync/resolve.js';
import { resolveEnvOf } from '../sync/resolve-session.js';
import { conflictPathOf } from '../sync/conflict-path.js';
import { lookup } from '../merge/tree-edit.js';
import type { SyncSummary } from '../sync/sync-dirs.js';
import type { ReadCheck } from '../fuse/checked-reads.js';
import type { Composed } from './volume-sync.js';
import { PartialReads } from './partial-reads.js';
import { VolumeFetch } from './volume-fetch.js';
import { VolumeSyncs } from './volume-syncs.js';
import { RangeStore } from './range-store.js';
import { SyncTimers } from './sync-timers.js';
import { faultOf } from './remote-fault.js';
import { localDirOf } from './layout.js';
import { materialise, scanHere, type FirstScan } from './materialise.js';
import { BaseIdLearner } from './learn-ids.js';
import { Placeholders } from './placeholders.js';
import { pathsStatus, pathState, type PathState } from './volume-state.js';
import type { RemoteIo } from './remote-io.js';
import { TotalsCache } from './tree-totals.js';
import { WhyLog } from './why.js';
import { ViewChanges, type ViewListener } from './view-changes.js';
import {
  DEFAULT_TIMES,
  VolumeError,
  type VolumeEvent,
  type VolumeStatus,
  type VolumeTimes,
} from './volume-types.js';
import { authRequired, MODE_TEXT, modeOf, type Mode, type OfflineCause } from './volume-mode.js';

export type { PathState };
export type { Mode, OfflineCause };
export { DEFAULT_TIMES, VolumeError } from './volume-types.js';
export type { VolumeEvent, VolumeStatus, VolumeTimes } from './volume-types.js';

const MODE_KEY = Buffer.from('mode');

export class Volume {
  readonly local: string;
  readonly placeholders: Placeholders;
  /** What of each placeholder has been fetched so far (partial content). */
  readonly ranges: RangeStore;
  private readonly partial: PartialReads;
  /** Fetches of placeholders' content, whole or by ranges. */
  private readonly fetcher: VolumeFetch;
  /** Syncs through the engine, and their outcomes. */
  private readonly syncs: VolumeSyncs;
  readonly why = new WhyLog();
  /** Files and bytes per stored tree, for snapshots' records (tree-totals.ts). */
  readonly totals = new TotalsCache();
  readonly conflicts: ConflictStore;
  private readonly viewChanges = new ViewChanges();
  private modeNow: Mode;
  private causeNow: OfflineCause = 'manual';
  /** The remote agent that makes every call on the remote (unset: calls made in-process). */
  remoteIo: RemoteIo | undefined;
  /** Mode changes, syncs, conflicts and data unavailable, as events (events.ts keeps them). */
  onEvent: VolumeEvent = () => undefined;
  /** The mode changed (called at once, before anything else runs: the mount follows it). */
  onMode: () => void = () => undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly timers: SyncTimers;
  /** Base learns fetched files' ids (and forgets evicted ones'). */
  readonly learner: BaseIdLearner;
  private closed = false;
  private readonly localBuf: Buffer;
  private readonly remoteBuf: Buffer;
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
    this.syncs = new VolumeSyncs(this, log);
    this.fetcher = new VolumeFetch(
      this,
      Buffer.from(remote),
      log,
      () => this.syncs.inFlight,
      (r) => new VolumeError(r),
    );
    this.conflicts = new ConflictStore(store.db('conflicts'));
    this.timers = new SyncTimers(
      times,
      () => void this.background(),
      () => this.syncs.busy === 0,
    );
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
    this.onMode();
    this.timers.stop();
    const text = MODE_TEXT[cause];
    await this.store.db('volume').put(MODE_KEY, Buffer.from(text));
    this.log(`${text}: ${reason}`);
    this.onEvent(cause === 'auth' ? 'auth-required' : 'mode', { mode: text, reason });
  }

  /** Reconnect: one sync through the engine, then online. Stays offline if it fails. */
  async goOnline(): Promise<SyncSummary> {
    return this.exclusive(async () => {
      const s = await this.syncs.run(false).catch(async (err: unknown) => {
        if (!isAuthTrouble(err)) throw err;
        await this.goOffline((err as Error).message, 'auth');
        throw authRequired(err);
      });
      this.modeNow = 'online';
      this.onMode();
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
    return this.exclusive(() => this.syncs.run(dryRun));
  }

  /** Something changed in the local view: flush soon (online). */
  changed(): void {
    this.syncs.dirty = true;
    if (this.modeNow !== 'online' || this.closed) return;
    this.timers.flushSoon();
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
  fetch(path: Path, op: string): Promise<void> {
    return this.fetcher.fetch(path, op);
  }

  /** Whether the placeholder `path` could be fetched whole into the cache (see wholeFits). */
  fitsWhole(path: Path): boolean {
    return this.fetcher.fitsWhole(path);
  }

  /** Bytes per range request of a fetch. */
  get rangeChunk(): number {
    return this.fetcher.rangeChunk;
  }

  /** Bytes [start, end) of the placeholder `path` fetched alone (VolumeFetch.fetchRange). */
  fetchRange(path: Path, ino: bigint, start: number, end: number, op: string): Promise<void> {
    return this.fetcher.fetchRange(path, ino, start, end, op);
  }

  /** Give back bytes [start, end) of the placeholder `path` (VolumeFetch.dropRange). */
  dropRange(
    path: Path,
    ino: bigint,
    start: number,
    end: number,
    whenIdle = false,
  ): Promise<boolean> {
    return this.fetcher.dropRange(path, ino, start, end, whenIdle);
  }

  /** Whether the server answers now (its root, asked of the server itself: remote-fault.ts). */
  serverAnswers(): Promise<void> {
    return this.fetcher.serverAnswers();
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
      ...(this.syncs.lastSync === undefined ? {} : { lastSync: this.syncs.lastSync }),
      ...(this.syncs.lastError === undefined ? {} : { lastError: this.syncs.lastError }),
    };
  }

  /** Stop the timers and, online, flush what is dirty (a failure leaves it local). */
  async close(): Promise<void> {
    this.closed = true;
    this.timers.stop();
    if (this.modeNow === 'online' && this.syncs.dirty) await this.background();
    await this.chain.catch(() => undefined);
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

  /**
   * A flush or pull; a failure of the remote takes the volume offline and keeps the changes
   * local.
   */
  private background(): Promise<void> {
    return this.exclusive(async () => {
      if (this.modeNow !== 'online') return;
      try {
        const s = await this.syncs.run(false, true);
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
    if (!this.closed) this.timers.startPull();
  }
}

// The cache limit in the daemon (DESIGN decision 11): keeps the running total (cache-ledger.ts),
// culls least-recently-used clean content when the automatic cache is over its limit (after
// fetches, and on a timer), and refuses a write with ENOSPC (EDISCONFULL) when only content
// that must stay is left. Culling touches only local things (the view, base, the store): it
// never waits on the remote, and works offline as online.
//
// Fetches are held to the limit too (roomToFetch): before a placeholder's content is fetched,
// room for it is made by a cull, and where content that must stay leaves none the fetch is
// refused the same way (ENOSPC, EDISCONFULL, `cache-full`), online as offline. A file that
// can never fit whole (wholeFits: larger than the limit) is refused at once, without a cull.
// A read-only open of such a file, or of one refused for room, is then served range by range
// (partial-reads.ts): each read fetches the chunks it touches through the range map, each
// chunk held to the limit here like a fetch, and the file keeps at most rangeBudget() of the
// cache, giving back its least recently read chunks. Its ranges are clean content: once it is
// closed, a cull gives them back too (punched out, the map dropped) — never pinned content,
// never dirty. Why not read such a file past the cache, straight from the server: every read
// of the mount is served from the local view (the low-level binding reads it in its own
// thread), so a pass-through read would need a second read path that waits on the network in
// a handler — what decision 2 rules out; the range map is that path, within the limit.
// Content kept only for a moment (open or just used) does not refuse a fetch: it can be evicted
// once closed, so the cache is let past its limit that long, as before.
//
// Where the write check sits: at the open or create that starts writing, not at each write.
// The low-level binding writes in its session thread without this process (native/
// lowlevel_direct.c), so a per-write check would cost that path; an open-time check against a
// running total costs a comparison. The limit may so be passed by what one open writes; the
// next open that would write is refused, and nothing written is ever lost.
import { setTimeout as sleep } from 'node:timers/promises';
import { lstatSync } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import type { CacheLimits } from './cache-limits.js';
import {
  CacheLedger,
  HeldRoom,
  automaticUse,
  overBy,
  toFree,
  type CacheTotals,
} from './cache-ledger.js';
import type { ChangedPaths } from './changed-paths.js';
import { planCull } from './cull-plan.js';
import { cullCandidates, RECENT_MS, type Candidate } from './cull-candidates.js';
import { Evicting } from './evicting.js';
import { walkCache, type WalkedFile } from './cache-walk.js';
import { covers, type Pins } from './pins.js';
import { UseTimes } from './use-times.js';
import { VolumeError, type Volume } from './volume.js';
import { msFromEnv } from '../agent/deadlines.js';

/**
 * Look at the running total this often (ms; TETHER_CULL_MS): a cull where it is over the limit,
 * a walk where something the total does not follow changed (a sync wrote). Costs nothing when
 * nothing changed: the walk is what costs (measured: 1.5–4 s and about 1 s of CPU for a view of
 * 20,000 files on two busy cores, its lstats filling libuv's pool that the mount's handlers
 * need), so an idle volume is walked only by the safety walk.
 */
const CULL_MS = 30_000;
/** Walk the view and the store this often however quiet the volume (ms; TETHER_CULL_WALK_MS). */
const WALK_MS = 15 * 60_000;

const NOTHING = { bytes: 0, pinned: false };

/** The share of --cache-size one file read range by range may keep. */
const RANGE_SHARE = 0.5;

export interface CullOutcome {
  readonly evicted: number;
  /** Files left only because they were opened a moment ago. */
  readonly recent: number;
  /** What those files (and files left because they were open) would free. */
  readonly recentBytes: number;
  readonly freedBytes: number;
  readonly ms: number;
}

export class Culler {
  readonly ledger = new CacheLedger();
  readonly uses: UseTimes;
  private walked: WalkedFile[] = [];
  private running: Promise<CullOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private full = false;
  /** Files of the eviction under way. */
  private readonly evicting = new Evicting();
  private gcMs = 0;
  /** Whether the running total may be wrong (set until the first walk). */
  private stale = true;
  /** When the last walk ended (performance.now()). */
  private walkedAt = 0;
  private closed = false;
  private readonly localBuf: Buffer;

  constructor(
    private readonly v: Volume,
    private readonly changed: ChangedPaths,
    private readonly pins: Pins,
    readonly limits: CacheLimits,
    private readonly event: (type: string, data: Record<string, unknown>) => void,
    private readonly log: (line: string) => void,
  ) {
    this.uses = new UseTimes(v.store.db('cache-use'));
    this.localBuf = Buffer.from(v.local);
  }

  start(): void {
    const walkMs = msFromEnv('TETHER_CULL_WALK_MS', WALK_MS);
    this.timer = setInterval(
      () => {
        this.uses.flush().catch((err: unknown) => {
          this.log(`cache: use times not written: ${(err as Error).message}`);
        });
        if (this.limits.cacheSize === undefined) return;
        // Event-driven: a walk only where the total may be wrong (or the safety walk is due), a
        // cull only where the total is over.
        const due = this.stale || performance.now() - this.walkedAt >= walkMs;
        if (due || overBy(this.totalsWith(NOTHING), this.limits) > 0) this.soon();
      },
      msFromEnv('TETHER_CULL_MS', CULL_MS),
    );
    if (this.limits.cacheSize !== undefined) this.soon();
  }

  /**
   * The view or the store changed in a way the running total does not follow (a sync wrote,
   * stored content, or freed it): the next look walks.
   */
  changedOutside(): void {
    this.stale = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.retry !== undefined) clearTimeout(this.retry);
    await this.running?.catch(() => undefined);
    await this.uses.flush().catch(() => undefined);
  }

  /**
   * `path` is being opened (or truncated, or linked) through the mount: its use is recorded,
   * and an eviction of it under way is withdrawn, or waited for once past withdrawing.
   */
  async used(path: Path): Promise<void> {
    this.uses.touch(path);
    await this.evicting.withdraw(path);
  }

  /** A fetch made `path` present: count it, and cull if that took the cache over. */
  async fetched(path: Path): Promise<void> {
    await this.noted(path);
    // Base learns its id next: the blob will take about as much in the store, pinned content
    // where the file is pinned (as a walk counts it).
    const bytes = this.bytesAt.get(path) ?? 0;
    if (this.isPinned(path)) this.ledger.set(path, 2 * bytes, true);
    else this.ledger.addStore(bytes);
    // Counted whole now: the room held for it is in the ledger.
    this.held.counted(path, Infinity);
    if (overBy(this.ledger.totals, this.limits) > 0) this.soon();
  }

  private readonly bytesAt = new Map<Path, number>();
  /** Room held for fetches under way. */
  private readonly held = new HeldRoom();

  /** The running total with the room held for fetches under way, and `extra` more. */
  private totalsWith(extra: { bytes: number; pinned: boolean }): CacheTotals {
    return this.held.added(this.ledger.totals, extra);
  }

  /**
   * Before a fetch adds about `needed()` bytes for `path`: room is made by a cull where it would
   * take the cache past its limit, and held until the fetch is counted (the release answered).
   * Refused with ENOSPC (EDISCONFULL) and a `cache-full` event where only content that must
   * stay is left; a hoard also stops where pinned content would pass --pin-cache-size.
   */
  async roomToFetch(path: Path, needed: () => number, op: string): Promise<() => void> {
    const { cacheSize, pinCacheSize } = this.limits;
    // Without limits nothing is counted here: not even what the fetch needs (a base lookup).
    if (cacheSize === undefined && pinCacheSize === undefined) return () => undefined;
    const need = needed();
    const want = { bytes: need, pinned: this.isPinned(path) };
    if (!this.wholeFits(path, need)) {
      throw this.refuse(
        path,
        op,
        `it can never fit the cache (${need} bytes; the limit is ${String(cacheSize)} bytes): ` +
          'it is read range by range, and to be written it needs a larger --cache-size',
        { need, limit: cacheSize },
      );
    }
    if (op === 'hoard' && want.pinned && pinCacheSize !== undefined) {
      const pinned = this.totalsWith(want).pinned;
      if (pinned > pinCacheSize) {
        throw this.refuse(
          path,
          op,
          `pinned content would pass its limit (${pinned} bytes of a ${pinCacheSize}-byte ` +
            '--pin-cache-size): unpin, or mount with a larger --pin-cache-size',
          { pinned: pinned - want.bytes, pinLimit: pinCacheSize },
        );
      }
    }
    if (overBy(this.totalsWith(want), this.limits) > 0) {
      let o = await this.cull();
      if (overBy(this.totalsWith(want), this.limits) > 0) o = await this.cull(want.bytes);
      const over = overBy(this.totalsWith(want), this.limits);
      if (over > o.recentBytes) {
        const use = automaticUse(this.ledger.totals, this.limits);
        throw this.refuse(
          path,
          op,
          `the cache has no room for it (${need} bytes more; ${use} bytes of a ` +
            `${String(cacheSize)}-byte limit taken by pinned, dirty or open content): ` +
            'sync, unpin, or mount with a larger --cache-size',
          { use, limit: cacheSize },
        );
      }
    }
    return this.held.hold(path, want);
  }

  /**
   * Whether `need` bytes of `path`'s content could be cached at all: no more than the limit it
   * counts against (pinned content: its own limit and the automatic one, where both are set).
   */
  wholeFits(path: Path, need: number): boolean {
    const { cacheSize, pinCacheSize } = this.limits;
    if (cacheSize === undefined) return true;
    if (!this.isPinned(path)) return need <= cacheSize;
    return pinCacheSize === undefined || need <= cacheSize + pinCacheSize;
  }

  /** Bytes one file read range by range may keep in the cache. */
  rangeBudget(): number {
    const { cacheSize } = this.limits;
    return cacheSize === undefined ? Infinity : Math.floor(cacheSize * RANGE_SHARE);
  }

  /** The refusal of `op` on `path` for want of room: a `cache-full` event (once), and the error. */
  private refuse(path: Path, op: string, message: string, data: Record<string, unknown>): Error {
    if (!this.full) {
      this.full = true;
      this.event('cache-full', { path, op, ...data });
    }
    return new VolumeError(this.v.why.note(path, 'EDISCONFULL', op, message));
  }

  /**
   * `path` changed through the mount: its entry in the running total follows (one lstat, made
   * synchronously: the view is local, and this runs after every change the mount makes).
   */
  noted(path: Path): Promise<void> {
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(fsPath(this.localBuf, path), { throwIfNoEntry: false });
    } catch {
      st = undefined; // too long a path, say: counted by the next walk instead
    }
    if (st?.isFile() === true) {
      const bytes = st.blocks * 512;
      this.bytesAt.set(path, bytes);
      this.ledger.set(path, bytes, this.isPinned(path));
    } else {
      this.bytesAt.delete(path);
      this.ledger.drop(path);
    }
    this.held.counted(path, this.bytesAt.get(path) ?? 0);
    if (overBy(this.totalsWith(NOTHING), this.limits) > 0) this.soon();
    return Promise.resolve();
  }

  /** Whether the cache is under its limits (a write may start without a cull). */
  hasRoom(): boolean {
    return overBy(this.ledger.totals, this.limits) < 0;
  }

  /**
   * Before a write to `path` starts: room is made by a cull where the cache is full, and where
   * none can be made the write is refused (ENOSPC, EDISCONFULL) with a `cache-full` event.
   */
  async room(path: Path, op: string): Promise<void> {
    if (this.hasRoom()) return;
    const o = await this.cull();
    if (overBy(this.ledger.totals, this.limits) < 0) return;
    if (o.recent > 0) {
      // Files opened a moment ago can be evicted in a moment: worth the wait before a refusal.
      await sleep(RECENT_MS);
      await this.cull();
      if (overBy(this.ledger.totals, this.limits) < 0) return;
    }
    const use = automaticUse(this.ledger.totals, this.limits);
    const message =
      `the cache is full (${use} bytes of a ${String(this.limits.cacheSize)}-byte limit) ` +
      'with pinned, dirty or open content only: sync, unpin, or mount with a larger --cache-size';
    throw this.refuse(path, op, message, { use, limit: this.limits.cacheSize });
  }

  /** The cache's use and limits, for `tether status` (counted afresh: status walks anyway). */
  async status(): Promise<Record<string, unknown>> {
    if (this.running === undefined) await this.recount(false);
    const t = this.ledger.totals;
    return {
      ...this.limits,
      use: t.total,
      pinned: t.pinned,
      automatic: automaticUse(t, this.limits),
      full: this.full,
      walks: this.walks,
      walkMs: Math.round(this.walkMs),
    };
  }

  /**
   * One cull at a time; a call while one runs waits for it. `extra`: bytes about to be added
   * (a fetch's), so the cull frees room for them too; such a call runs its own cull after the
   * one under way.
   */
  async cull(extra = 0): Promise<CullOutcome> {
    if (extra > 0) await this.running?.catch(() => undefined);
    this.running ??= this.cullNow(extra).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private soon(): void {
    if (this.closed || this.running !== undefined) return;
    this.cull().catch((err: unknown) => {
      this.log(`cache: cull failed: ${(err as Error).message}`);
    });
  }

  private isPinned(path: Path, pins = this.pins.list()): boolean {
    return pins.some((p) => covers(p, path));
  }

  /**
   * Set the running total from a walk of the view and of the store. `upkeep`: a walk of the
   * cache's own (counted in `walks`), not one that `tether status` asked for. Only the cache's
   * own walk settles a change made outside the running total: one that status asked for may
   * race the change it would settle, so the next look walks anyway (and is counted).
   */
  private async recount(upkeep = true): Promise<void> {
    const t0 = performance.now();
    if (upkeep) this.stale = false;
    const pins = this.pins.list();
    // Fetched content still to be stored as a blob (base learns its id a moment later) is
    // counted at its size in the view, as fetched() counted it: the walk of the store misses it,
    // and nothing would look again once it lands. A pinned file's is pinned content, with the
    // file. Looked at before the walk, so content stored meanwhile is at worst counted twice (a
    // cull frees a little more), never missed.
    const unstored = this.v.learner.notYetStored();
    const w = await walkCache(this.v, (path) => this.isPinned(path, pins));
    this.walked = w.files;
    this.bytesAt.clear();
    for (const f of w.files) this.bytesAt.set(f.path, f.bytes);
    const storing = new Set(unstored);
    let coming = 0;
    for (const e of w.entries) {
      if (!storing.has(e[0])) continue;
      if (e[2]) e[1] += this.bytesAt.get(e[0]) ?? 0;
      else coming += this.bytesAt.get(e[0]) ?? 0;
    }
    this.ledger.reset(w.entries, w.storeBytes + coming);
    this.walkedAt = performance.now();
    if (upkeep) this.walks++;
    this.walkMs = this.walkedAt - t0;
  }

  /** Walks made so far, and the last one's time (ms), for `tether status`. */
  private walks = 0;
  private walkMs = 0;

  private async cullNow(extra: number): Promise<CullOutcome> {
    const t0 = performance.now();
    await this.recount();
    const want = toFree(this.totalsWith({ bytes: extra, pinned: false }), this.limits);
    if (want <= 0) {
      if (extra === 0) this.full = false;
      return { evicted: 0, recent: 0, recentBytes: 0, freedBytes: 0, ms: performance.now() - t0 };
    }
    const before = this.ledger.totals.total;
    const t1 = performance.now();
    const pins = this.pins.list();
    const candidates = cullCandidates(
      this.v,
      this.walked,
      (path) => this.isPinned(path, pins),
      this.changed,
      this.uses,
    );
    const plan = planCull(candidates, want);
    const t2 = performance.now();
    const { evicted, busy, busyBytes } =
      plan.evict.length === 0
        ? { evicted: 0, busy: 0, busyBytes: 0 }
        : await this.evicting.evict(
            this.v,
            plan.evict as Candidate[],
            this.uses,
            (ms) => (this.gcMs = ms),
          );
    const recent = (plan.kept.recent ?? 0) + busy;
    const recentBytes = busyBytes + plan.passing;
    const t3 = performance.now();
    await this.recount();
    const freedBytes = before - this.ledger.totals.total;
    const ms = performance.now() - t0;
    this.event('cache-pressure', {
      use: automaticUse(this.ledger.totals, this.limits),
      limit: this.limits.cacheSize,
      wanted: want,
      evicted,
      freedBytes,
      kept: plan.kept,
      ms: Math.round(ms),
    });
    // Where the time went (ms): counting, planning, evicting and freeing, counting again.
    const phases = [t1 - t0, t2 - t1, t3 - t2, performance.now() - t3].map(Math.round);
    this.log(
      `cache: culled ${evicted} files, ${freedBytes} bytes in ${Math.round(ms)} ms ` +
        `(count, plan, evict, recount: ${phases.join(', ')}; gc ${Math.round(this.gcMs)})`,
    );
    if (overBy(this.ledger.totals, this.limits) < 0) this.full = false;
    else if (recent > 0 && this.retry === undefined && !this.closed) {
      // What was too recently opened to evict may be evicted in a moment.
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.soon();
      }, RECENT_MS);
    }
    return { evicted, recent, recentBytes, freedBytes, ms };
  }
}

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
import { lstatSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { fsPath, hashFile } from '../scan/fs-entry.js';
import { closeMtime } from '../scan/stamp.js';
import { allocated } from './cache-use.js';
import type { CacheLimits } from './cache-limits.js';
import { CacheLedger, automaticUse, overBy, toFree, type CacheTotals } from './cache-ledger.js';
import type { ChangedPaths } from './changed-paths.js';
import { planCull, type CachedFile, type CullPlan, type KeepReason } from './cull-plan.js';
import { walkLocal, type WalkedFile } from './cache-walk.js';
import { evictToPlaceholders, type Claims } from './evict.js';
import { gcHere } from './daemon-gc.js';
import { forgetIds } from './forget-ids.js';
import { covers, type Pins } from './pins.js';
import { UseTimes } from './use-times.js';
import { VolumeError, type Volume } from './volume.js';

/** A file opened this recently is not evicted: its open may be between the fetch check and the open itself. */
const RECENT_MS = 1000;
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

type Candidate = CachedFile & {
  readonly st: WalkedFile['st'];
  readonly verify: boolean;
  /** A placeholder's fetched ranges (given back by punching them out), not a cached file. */
  readonly ranges?: true;
};

export interface CullOutcome {
  readonly evicted: number;
  /** Files left only because they were opened a moment ago. */
  readonly recent: number;
  /** What those files (and files left because they were open) would free. */
  readonly recentBytes: number;
  readonly freedBytes: number;
  readonly ms: number;
}

/** Paths of the local view this process holds open (the mount's open files). */
async function openPaths(local: Buffer): Promise<Set<Path>> {
  const out = new Set<Path>();
  const prefix = Buffer.concat([local, Buffer.from('/')]);
  // Linux only, as tether is: without /proc nothing could be told open, so nothing is culled.
  const fds = await readdir('/proc/self/fd').catch(() => undefined);
  if (fds === undefined) throw new Error('cannot list /proc/self/fd: no cull without it');
  for (const fd of fds) {
    const to = await readlink(`/proc/self/fd/${fd}`, { encoding: 'buffer' }).catch(() => null);
    if (to?.subarray(0, prefix.length).equals(prefix) === true) {
      out.add(to.subarray(prefix.length).toString('latin1'));
    }
  }
  return out;
}

export class Culler {
  readonly ledger = new CacheLedger();
  readonly uses: UseTimes;
  private walked: WalkedFile[] = [];
  private running: Promise<CullOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private full = false;
  /** Files of the eviction under way: chosen, or being renamed (with its end). */
  private readonly evicting = new Map<Path, 'chosen' | { done: Promise<void>; end: () => void }>();
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
    const ms = (name: string, dflt: number): number => {
      const v = Number(process.env[name]);
      return Number.isFinite(v) && v > 0 ? v : dflt;
    };
    const walkMs = ms('TETHER_CULL_WALK_MS', WALK_MS);
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
      ms('TETHER_CULL_MS', CULL_MS),
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
    const e = this.evicting.get(path);
    if (e === 'chosen') this.evicting.delete(path);
    else if (e !== undefined) await e.done;
  }

  /** A fetch made `path` present: count it, and cull if that took the cache over. */
  async fetched(path: Path): Promise<void> {
    await this.noted(path);
    // Base learns its id next: the blob will take about as much in the store.
    this.ledger.addStore(this.bytesAt.get(path) ?? 0);
    // Counted whole now: the room held for it is in the ledger.
    for (const h of this.held.values()) if (h.path === path) h.bytes = 0;
    if (overBy(this.ledger.totals, this.limits) > 0) this.soon();
  }

  private readonly bytesAt = new Map<Path, number>();
  /**
   * Room held for fetches under way (bytes, and whether pinned), less what of the fetched file
   * the ledger counts already (noted): the same bytes are never counted twice, or a cull run
   * while a fetch ends would evict a file more than the fetch needs.
   */
  private readonly held = new Map<
    number,
    { path: Path; want: number; bytes: number; pinned: boolean }
  >();
  private heldSeq = 0;

  /** The running total with the room held for fetches under way, and `extra` more. */
  private totalsWith(extra: { bytes: number; pinned: boolean }): CacheTotals {
    const t = this.ledger.totals;
    let total = t.total + extra.bytes;
    let pinned = t.pinned + (extra.pinned ? extra.bytes : 0);
    for (const h of this.held.values()) {
      total += h.bytes;
      if (h.pinned) pinned += h.bytes;
    }
    return { total, pinned };
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
    const key = ++this.heldSeq;
    this.held.set(key, { path, want: want.bytes, ...want });
    return () => {
      this.held.delete(key);
    };
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
    for (const h of this.held.values()) {
      if (h.path === path) h.bytes = Math.max(0, h.want - (this.bytesAt.get(path) ?? 0));
    }
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
      await new Promise((r) => setTimeout(r, RECENT_MS));
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
    const w = await walkLocal(this.v.local);
    const storeBytes = await allocated(this.v.storeDir, new Set([this.v.local]), new Set());
    const pins = this.pins.list();
    this.walked = w.files;
    this.bytesAt.clear();
    let pinnedBlobs = 0;
    const entries: [Path, number, boolean][] = [];
    for (const f of w.files) {
      this.bytesAt.set(f.path, f.bytes);
      const pinned = this.isPinned(f.path, pins);
      // A pinned file's blob is pinned content too: counted with it, not with the store.
      const blob = pinned ? await this.blobBytes(f.path) : 0;
      pinnedBlobs += blob;
      entries.push([f.path, f.bytes + blob, pinned]);
    }
    this.ledger.reset(entries, storeBytes + w.otherBytes - pinnedBlobs);
    this.walkedAt = performance.now();
    if (upkeep) this.walks++;
    this.walkMs = this.walkedAt - t0;
  }

  /** Walks made so far, and the last one's time (ms), for `tether status`. */
  private walks = 0;
  private walkMs = 0;

  /** What the blob of base's content at `path` takes as a file in the store (0: none). */
  private async blobBytes(path: Path): Promise<number> {
    const id = this.v.baseEntry(path)?.id;
    if (id === undefined) return 0;
    const st = await lstat(this.v.store.blobPath(id)).catch(() => undefined);
    return st === undefined ? 0 : st.blocks * 512;
  }

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
    const plan = planCull(this.candidates(), want);
    const t2 = performance.now();
    const { evicted, busy, busyBytes } =
      plan.evict.length === 0 ? { evicted: 0, busy: 0, busyBytes: 0 } : await this.apply(plan);
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

  /** Every cached file, with why it must stay where it must. */
  private candidates(): Candidate[] {
    const pins = this.pins.list();
    const conflicted = new Set(
      this.v.conflicts
        .list()
        .flatMap((c) => (c.variantPath === undefined ? [c.path] : [c.path, c.variantPath])),
    );
    const noted = new Set(this.changed.list());
    const now = Date.now();
    return this.walked.flatMap((f): Candidate[] => {
      const lastUse = this.uses.lastUse(f.path);
      if (this.v.placeholders.is(f.path, f.st.ino)) {
        // A placeholder's fetched ranges (a fetch cut short, a file read range by range): the
        // server's bytes, clean; given back whole unless pinned or just used.
        if (f.bytes === 0 || this.v.ranges.of(f.path, f.st.ino) === undefined) return [];
        const keep: KeepReason | undefined = this.isPinned(f.path, pins)
          ? 'pinned'
          : now - lastUse < RECENT_MS
            ? 'recent'
            : undefined;
        const r = { path: f.path, frees: f.bytes, lastUse, st: f.st, verify: false };
        return [{ ...r, ranges: true, ...(keep === undefined ? {} : { keep }) }];
      }
      const b = this.v.baseEntry(f.path);
      let keep: KeepReason | undefined;
      if (this.isPinned(f.path, pins)) keep = 'pinned';
      else if (conflicted.has(f.path)) keep = 'conflict';
      else if (b === undefined) keep = 'provisional';
      else if (
        b.kind !== 'file' ||
        b.size !== Number(f.st.size) ||
        !closeMtime(b.mtimeNs, f.st.mtimeNs) ||
        b.mode !== (Number(f.st.mode) & 0o7777)
      )
        keep = 'dirty';
      else if (f.st.nlink > 1n) keep = 'linked';
      else if (now - lastUse < RECENT_MS) keep = 'recent';
      // Written through the mount since it last equalled base, and its stamp is no proof of
      // its bytes (a write may keep size and mtime): only base's id can clear it. A file just
      // fetched is such a file too until base learns its id, a moment later: it is kept, but
      // counted as passing (a fetch is not refused for it).
      const verify = noted.has(f.path) || !this.changed.complete;
      if (keep === undefined && verify && b?.id === undefined) {
        keep = this.v.learner.pending(f.path) ? 'unverified' : 'dirty';
      }
      const frees = f.bytes + (b?.id === undefined ? 0 : b.size);
      return [
        { path: f.path, frees, lastUse, st: f.st, verify, ...(keep === undefined ? {} : { keep }) },
      ];
    });
  }

  /**
   * Evict the plan's files (between syncs), then free what base no longer names. `busy`: files
   * left because they were open, or opened since the plan, at the time.
   */
  private async apply(
    plan: CullPlan,
  ): Promise<{ evicted: number; busy: number; busyBytes: number }> {
    let busy = 0;
    let busyBytes = 0;
    const evicted = await this.v.between(async () => {
      const open = await openPaths(this.localBuf);
      const chosen: Candidate[] = [];
      const ranged: Candidate[] = [];
      for (const f of plan.evict as Candidate[]) {
        if (open.has(f.path) || Date.now() - this.uses.lastUse(f.path) < RECENT_MS) {
          busy++;
          busyBytes += f.frees;
          continue;
        }
        if (f.ranges === true) {
          ranged.push(f);
          continue;
        }
        const b = this.v.baseEntry(f.path);
        if (b?.kind !== 'file') continue;
        if (f.verify) {
          const id = await hashFile(fsPath(this.localBuf, f.path)).catch(() => undefined);
          if (id === undefined || id !== b.id) continue;
        }
        chosen.push(f);
      }
      for (const f of [...chosen, ...ranged]) this.evicting.set(f.path, 'chosen');
      const claims: Claims = {
        claim: (path) => {
          if (this.evicting.get(path) !== 'chosen') return false;
          let end!: () => void;
          const done = new Promise<void>((r) => (end = r));
          this.evicting.set(path, { done, end });
          return true;
        },
        release: (path) => {
          const e = this.evicting.get(path);
          this.evicting.delete(path);
          if (e !== undefined && e !== 'chosen') e.end();
        },
      };
      const gaveBack = await this.giveBackRanges(ranged, claims).finally(() => {
        for (const f of ranged) this.evicting.delete(f.path);
      });
      const done = await evictToPlaceholders(
        this.localBuf,
        chosen.map((f) => ({ path: f.path, was: f.st })),
        this.v.placeholders,
        claims,
      ).finally(() => {
        for (const f of chosen) this.evicting.delete(f.path);
      });
      const forget = done.flatMap((path) => {
        const id = this.v.baseEntry(path)?.id;
        return id === undefined ? [] : [{ path, id }];
      });
      await forgetIds(this.v.store, forget);
      // In the same turn: a sync in between would take the ids back from the scan caches
      // (which vouch for a stamp's id), and the gc drops those caches as it frees.
      const g0 = performance.now();
      if (done.length > 0) await gcHere(this.v, false);
      this.gcMs = performance.now() - g0;
      this.v.viewChanged(done);
      return done.length + gaveBack;
    });
    return { evicted, busy, busyBytes };
  }

  /**
   * Give back every range of each partial file in `files` that is still the one planned from
   * and not being fetched into (claimed as an eviction is); answers how many were.
   */
  private async giveBackRanges(files: readonly Candidate[], claims: Claims): Promise<number> {
    let n = 0;
    for (const f of files) {
      const map = this.v.ranges.of(f.path, f.st.ino);
      if (map === undefined || !claims.claim(f.path)) continue;
      try {
        const end = Math.max(Number(f.st.size), map.size);
        if (await this.v.dropRange(f.path, f.st.ino, 0, end, true)) n++;
      } finally {
        claims.release(f.path);
      }
    }
    return n;
  }
}

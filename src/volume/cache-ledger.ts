// The cache's running total: what each file of the local view takes (allocated bytes, as du
// counts them), whether it is pinned, and what the store takes apart from the view. A walk sets
// it whole (at start and on the cull timer); between walks each fetch, eviction and finished
// write moves one entry, so deciding whether a write has room costs no walk.
import type { Path } from '../merge/plan.js';
import type { CacheLimits } from './cache-limits.js';

export interface CacheTotals {
  /** Everything: the store and the local view. */
  readonly total: number;
  /** Pinned content in the local view. */
  readonly pinned: number;
}

export class CacheLedger {
  private readonly files = new Map<Path, { bytes: number; pinned: boolean }>();
  private localNow = 0;
  private pinnedNow = 0;
  private storeNow = 0;

  /** Replace everything with a walk's result. */
  reset(entries: Iterable<readonly [Path, number, boolean]>, storeBytes: number): void {
    this.files.clear();
    this.localNow = 0;
    this.pinnedNow = 0;
    for (const [path, bytes, pinned] of entries) this.set(path, bytes, pinned);
    this.storeNow = storeBytes;
  }

  set(path: Path, bytes: number, pinned: boolean): void {
    this.drop(path);
    if (bytes <= 0) return;
    this.files.set(path, { bytes, pinned });
    this.localNow += bytes;
    if (pinned) this.pinnedNow += bytes;
  }

  drop(path: Path): void {
    const was = this.files.get(path);
    if (was === undefined) return;
    this.files.delete(path);
    this.localNow -= was.bytes;
    if (was.pinned) this.pinnedNow -= was.bytes;
  }

  /** The store grew or shrank by `bytes` (a blob stored, objects freed). */
  addStore(bytes: number): void {
    this.storeNow = Math.max(0, this.storeNow + bytes);
  }

  get local(): number {
    return this.localNow;
  }

  get store(): number {
    return this.storeNow;
  }

  get totals(): CacheTotals {
    return { total: this.localNow + this.storeNow, pinned: this.pinnedNow };
  }
}

/**
 * What the automatic cache takes against its limit: everything but pinned content, except that
 * pinned content past its own limit counts too (it cannot be evicted, so it squeezes the rest).
 * Without a pin limit pinned content is the user's choice and counts against nothing.
 */
export function automaticUse(t: CacheTotals, limits: CacheLimits): number {
  const pinnedAllowed = Math.min(t.pinned, limits.pinCacheSize ?? Infinity);
  return t.total - pinnedAllowed;
}

/** Bytes the automatic cache is over its limit (0 or less: under; no limit: -Infinity). */
export function overBy(t: CacheTotals, limits: CacheLimits): number {
  return limits.cacheSize === undefined ? -Infinity : automaticUse(t, limits) - limits.cacheSize;
}

/** Culling brings the cache down to this share of its limit, so one cull makes room for more than one file. */
export const LOW_WATER = 0.9;

/** Bytes a cull should free (0: none needed). */
export function toFree(t: CacheTotals, limits: CacheLimits): number {
  if (limits.cacheSize === undefined || overBy(t, limits) <= 0) return 0;
  return Math.ceil(automaticUse(t, limits) - limits.cacheSize * LOW_WATER);
}

/**
 * Room held for fetches under way (bytes, and whether pinned), less what of the fetched file
 * the ledger counts already (counted): the same bytes are never counted twice, or a cull run
 * while a fetch ends would evict a file more than the fetch needs.
 */
export class HeldRoom {
  private readonly held = new Map<
    number,
    { path: Path; want: number; bytes: number; pinned: boolean }
  >();
  private seq = 0;

  /** Hold `want` for a fetch of `path`; answers the release. */
  hold(path: Path, want: { bytes: number; pinned: boolean }): () => void {
    const key = ++this.seq;
    this.held.set(key, { path, want: want.bytes, ...want });
    return () => {
      this.held.delete(key);
    };
  }

  /** The ledger counts `bytes` of `path` now (Infinity: all of it). */
  counted(path: Path, bytes: number): void {
    for (const h of this.held.values()) {
      if (h.path === path) h.bytes = Math.max(0, h.want - bytes);
    }
  }

  /** Totals `t` with the room held, and `extra` more. */
  added(t: CacheTotals, extra: { bytes: number; pinned: boolean }): CacheTotals {
    let total = t.total + extra.bytes;
    let pinned = t.pinned + (extra.pinned ? extra.bytes : 0);
    for (const h of this.held.values()) {
      total += h.bytes;
      if (h.pinned) pinned += h.bytes;
    }
    return { total, pinned };
  }
}

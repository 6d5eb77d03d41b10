// Which cached files a cull evicts (plan only; evict.ts applies it): the clean, unpinned,
// unopened ones, least recently used first, until enough is freed. Each file not evicted says
// why, so `cache-pressure` and `cache-full` events can tell what fills the cache.
import type { Path } from '../merge/plan.js';

/**
 * Why a cached file stays: content that must never be evicted, or that is in use, or just
 * fetched and not yet known by its id (`unverified`: base learns it a moment later).
 */
export type KeepReason =
  'pinned' | 'dirty' | 'provisional' | 'conflict' | 'open' | 'recent' | 'linked' | 'unverified';

/** Reasons that hold a file only for a moment: it may be evicted soon after. */
const PASSING: ReadonlySet<KeepReason> = new Set(['open', 'recent', 'unverified']);

export interface CachedFile {
  readonly path: Path;
  /** What evicting it frees: its bytes in the view and its blob in the store where base has one. */
  readonly frees: number;
  /** When it was last opened (ms since the epoch; 0 where never recorded). */
  readonly lastUse: number;
  /** Set where the file must stay. */
  readonly keep?: KeepReason;
}

export interface CullPlan {
  /** In eviction order: least recently used first. */
  readonly evict: readonly CachedFile[];
  readonly frees: number;
  /** Bytes still wanted after every evictable file is taken (0: the plan frees enough). */
  readonly short: number;
  readonly kept: Readonly<Partial<Record<KeepReason, number>>>;
  /** What the files kept only for a moment (open, just used, just fetched) would free. */
  readonly passing: number;
}

export function planCull(files: readonly CachedFile[], want: number): CullPlan {
  const kept: Partial<Record<KeepReason, number>> = {};
  const evictable: CachedFile[] = [];
  let passing = 0;
  for (const f of files) {
    if (f.keep === undefined) evictable.push(f);
    else kept[f.keep] = (kept[f.keep] ?? 0) + 1;
    if (f.keep !== undefined && PASSING.has(f.keep)) passing += f.frees;
  }
  // Oldest use first; equal times (never recorded) by path, so a plan is the same each run.
  evictable.sort(
    (a, b) => a.lastUse - b.lastUse || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  const evict: CachedFile[] = [];
  let frees = 0;
  for (const f of evictable) {
    if (frees >= want) break;
    evict.push(f);
    frees += f.frees;
  }
  return { evict, frees, short: Math.max(0, want - frees), kept, passing };
}

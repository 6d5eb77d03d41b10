// When two stamps are "the same". Node sets file times only to the microsecond (libuv takes
// a double of seconds and truncates), so a file tether writes carries its source's mtime give
// or take about a microsecond. Like rsync's --modify-window, mtimes closer than this window
// count as equal; a real edit of the same size within two microseconds of the old mtime is
// the price, and it is the same price every stamp-based scanner pays at its own resolution.
import type { Entry } from '../tree/index.js';

export { MTIME_WINDOW_NS } from '../merge/diff.js';
import { MTIME_WINDOW_NS } from '../merge/diff.js';

export function closeMtime(a: bigint, b: bigint): boolean {
  const d = a - b;
  return d <= MTIME_WINDOW_NS && d >= -MTIME_WINDOW_NS;
}

/** Same size and (within the window) same mtime. */
export function sameStamp(a: Entry, b: Entry): boolean {
  return a.size === b.size && closeMtime(a.mtimeNs, b.mtimeNs);
}

/** Seconds as a double for utimes (the best Node can do; see above). */
export function timeArg(ns: bigint): number {
  const sec = ns / 1_000_000_000n;
  return Number(sec) + Number(ns - sec * 1_000_000_000n) / 1e9;
}

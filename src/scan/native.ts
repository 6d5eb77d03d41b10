// tether's native helpers (native/scandir.c, built by `npm ci` or `npm run build:native`):
// directory listings in one call, extended attributes by byte path, and mknod(2) (node:fs has
// none). Undefined where the addon is not built (no C toolchain): callers then fall back to
// slower or narrower ways.
import { loadNativeAddon } from '../store/native-addon.js';

export interface Native {
  /** `old`, `cutoffUs`: an earlier listing whose xattr flags may be kept (see list-dir.ts). */
  listDir(path: Buffer, xattrs: boolean, old?: Buffer, cutoffUs?: number): Buffer;
  listDirAsync(path: Buffer, xattrs: boolean, old?: Buffer, cutoffUs?: number): Promise<Buffer>;
  recordFields: number;
  matchListings(now: Buffer, old: Buffer): Int32Array;
  latestMtimeUs(listing: Buffer): number;
  xattrNames(path: Buffer): Buffer[];
  xattrGet(path: Buffer, name: Buffer): Buffer | null;
  /** The user.* attributes, read on a worker thread: names and values alternating. */
  xattrsAsync(path: Buffer): Promise<Buffer[]>;
  xattrSet(path: Buffer, name: Buffer, value: Buffer): void;
  xattrRemove(path: Buffer, name: Buffer): void;
  /** mknod(2) with the permission bits set exactly as given (no umask). */
  mknod(path: Buffer, mode: number, rdev: number): void;
  /** fallocate(2) PUNCH_HOLE, the size kept (absent from builds older than it). */
  punchHole?(fd: number, start: number, length: number): void;
  /**
   * The index of the first of the NUL-terminated `paths` whose lstat no longer has its 8
   * `expected` fields (local-memo.ts), or -1 (absent from builds older than it).
   */
  statsAlike?(paths: Buffer, expected: BigInt64Array): number;
}

/** Fields per entry of a listing this code reads (a stale build with another layout is not used). */
export const RECORD_FIELDS = 14;

export const native: Native | undefined = loadNativeAddon<Native>(
  (n) =>
    n.recordFields === RECORD_FIELDS &&
    typeof n.xattrsAsync === 'function' &&
    typeof n.mknod === 'function',
);

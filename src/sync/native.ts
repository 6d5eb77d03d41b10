// tether's native helpers (native/scandir.c, built by `npm ci` or `npm run build:native`):
// directory listings in one call, and extended attributes by byte path. Undefined where the
// addon is not built (no C toolchain): callers then fall back to slower or narrower ways.
import { createRequire } from 'node:module';

export interface Native {
  /** `old`, `cutoffUs`: an earlier listing whose xattr flags may be kept (see list-dir.ts). */
  listDir(path: Buffer, xattrs: boolean, old?: Buffer, cutoffUs?: number): Buffer;
  listDirAsync(path: Buffer, xattrs: boolean, old?: Buffer, cutoffUs?: number): Promise<Buffer>;
  recordFields: number;
  matchListings(now: Buffer, old: Buffer): Int32Array;
  latestMtimeUs(listing: Buffer): number;
  xattrNames(path: Buffer): Buffer[];
  xattrGet(path: Buffer, name: Buffer): Buffer | null;
  xattrSet(path: Buffer, name: Buffer, value: Buffer): void;
  xattrRemove(path: Buffer, name: Buffer): void;
}

/** Fields per entry of a listing this code reads (a stale build with another layout is not used). */
export const RECORD_FIELDS = 14;

function load(): Native | undefined {
  if (process.env['TETHER_NATIVE'] === '0') return undefined;
  const require = createRequire(import.meta.url);
  // From dist/src/sync (the compiled modules) or dist/ (the bundled CLI).
  for (const p of [
    '../../../build/Release/tether_native.node',
    '../build/Release/tether_native.node',
  ]) {
    try {
      const n = require(p) as Native;
      if (n.recordFields === RECORD_FIELDS && typeof n.latestMtimeUs === 'function') return n;
    } catch {
      // not built here: try the next place
    }
  }
  return undefined;
}

export const native: Native | undefined = load();

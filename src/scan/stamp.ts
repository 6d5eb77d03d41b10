// When two stamps are "the same". Node sets file times only to the microsecond (libuv takes
// a double of seconds and truncates), so a file tether writes carries its source's mtime give
// or take about a microsecond. Like rsync's --modify-window, mtimes closer than this window
// count as equal; a real edit of the same size within two microseconds of the old mtime is
// the price, and it is the same price every stamp-based scanner pays at its own resolution.
import { lstat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry } from '../tree/index.js';

export { MTIME_WINDOW_NS } from '../merge/diff.js';
import { MTIME_WINDOW_NS } from '../merge/diff.js';

/**
 * Git's racy-clean margin: a file changed this close after it was read (or after a scan
 * started) may keep the times the read saw (the kernel's clock for file times is coarse), so
 * its stat vouches for nothing.
 */
export const RACY_NS = 100_000_000n;

/** Mtimes within `window` of each other (a filesystem's timestamp granularity, at least MTIME_WINDOW_NS). */
export function closeMtime(a: bigint, b: bigint, window: bigint = MTIME_WINDOW_NS): boolean {
  const d = a - b;
  return d <= window && d >= -window;
}

/** Same size and (within the window) same mtime. */
export function sameStamp(a: Entry, b: Entry, window: bigint = MTIME_WINDOW_NS): boolean {
  return a.size === b.size && closeMtime(a.mtimeNs, b.mtimeNs, window);
}

/** Seconds as a double for utimes (the best Node can do; see above). */
export function timeArg(ns: bigint): number {
  const sec = ns / 1_000_000_000n;
  return Number(sec) + Number(ns - sec * 1_000_000_000n) / 1e9;
}

/**
 * The mtime granularity of the filesystem under `dir`, found by setting a time with every
 * digit of nanoseconds on a scratch file and reading back what was kept: sshfs (SFTP v3) keeps
 * whole seconds, FAT two seconds, most local filesystems nanoseconds (Node itself sets
 * microseconds). Returns the window two stamps of that filesystem may differ by and still be
 * the same, never less than MTIME_WINDOW_NS; undefined where it cannot probe (read-only, or
 * the server not answering).
 */
export async function mtimeWindowOf(dir: string, tempName: string): Promise<bigint | undefined> {
  const p = join(dir, tempName);
  // An odd second with every sub-second digit set: what survives tells the granularity.
  const set = 1_700_000_001_123_456_789n;
  try {
    await writeFile(p, '', { flag: 'wx' });
    await utimes(p, timeArg(set), timeArg(set));
    const got = (await lstat(p, { bigint: true })).mtimeNs;
    for (const g of [2_000_000_000n, 1_000_000_000n, 1_000_000n]) {
      if (got % g === 0n) return g;
    }
    return MTIME_WINDOW_NS;
  } catch {
    return undefined;
  } finally {
    await unlink(p).catch(() => undefined);
  }
}

/**
 * File systems whose ctime or inode numbers a client cannot rely on: FUSE (sshfs and rclone
 * make inode numbers up unless told otherwise, and SFTP has no ctime), NFS, SMB/CIFS, Ceph, 9p.
 */
const UNSTABLE_STAT = new Set([
  0x65735546, // FUSE
  0x6969, // NFS
  0xff534d42, // CIFS
  0xfe534d42, // SMB2
  0x517b, // SMB
  0x00c36400, // Ceph
  0x01021997, // 9p
]);

/**
 * Whether \`dir\`'s file system keeps ctime and inode numbers as a local disk does (DESIGN
 * decision 16): there a stamp is checked against them too; elsewhere size and mtime decide
 * alone. Unknown (statfs fails): not stable, the cautious answer for the server side.
 */
export async function stableStatOf(dir: string): Promise<boolean> {
  try {
    return !UNSTABLE_STAT.has((await statfs(dir)).type);
  } catch {
    return false;
  }
}

// Scanning a replica into a tree in the store. Two modes (DESIGN decision 4, issue 3 item 4):
// - 'hash' (the local replica, snapshots): every file gets its content id; a file known to be
//   unchanged keeps its id unread, so a rescan reads only what changed;
// - 'stamp' (the server replica): no content is read; a file whose stamp matches base keeps
//   base's id, any other file is known by its stamp only (size, mtime).
// An entry equal to base but for an mtime inside the stamp window (stamp.ts) takes base's
// mtime, so a file tether wrote is not seen as touched on the next run.
//
// Each directory is listed in one call (list-dir.ts: names and lstat fields in one buffer).
// With a scan cache, the listing a directory had at the last scan is kept with the tree that
// scan made of it. A directory whose listing is byte for byte the same (no entry added,
// removed, or with any of type, mode, owner, size, mtime, ctime, inode, device changed), with
// the same base below it and no entry modified too close to that scan to trust its stamp, is
// the same tree: only its subdirectories are looked into. In a directory that did change, the
// old listing is the stat cache of every entry in it: an entry whose stat is the same keeps
// its content id and xattrs. A cache is only ever a shortcut: without one (or with one that
// does not match) everything is read as before. Stamps are compared with inode numbers in
// them only through the cache; sshfs and some NFS setups renumber inodes, which only costs
// the shortcut.
//
// The scan's steps are Scanner's (scanner.ts: list, reuse a directory whole, recurse, record)
// and DirScan's (dir-scan.ts: a changed directory entry by entry); the cache record and its
// codec are dir-record.ts, the old listing and tree cursor old-listing.ts.
import type { Hash } from '../tree/index.js';
import type { ScanOptions, ScanStore } from './scan-options.js';
import { Scanner } from './scanner.js';

export { HeldRecords, type ScanOptions, type ScanStore } from './scan-options.js';
export { learnIds } from './cache-learn.js';

/** Scan the replica at `root` into a tree in the store (see the header). */
export async function scanReplica(
  store: ScanStore,
  root: string,
  opts: ScanOptions,
): Promise<Hash> {
  return new Scanner(store, root, opts).run();
}

// The files a directory replica hashed, by path, so that a second check of the same content
// (apply's check of a target right before its rename) costs one lstat, not a read: git's
// racy-clean rule (see check).
import type { BigIntStats } from 'node:fs';
import type { ByteString, Hash } from '../tree/index.js';

/**
 * A file this replica hashed: its lstat taken just before, and the time before that lstat
 * less a margin (git's racy-clean rule, see `check`).
 */
interface Hashed {
  readonly st: BigIntStats;
  readonly id: Hash;
  readonly beforeNs: bigint;
}

/** A file's whole identity on a local disk: the same bytes unless written since (see check). */
function sameStat(a: BigIntStats, b: BigIntStats): boolean {
  return (
    a.ino === b.ino &&
    a.dev === b.dev &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.mode === b.mode
  );
}

export class HashedFiles {
  private readonly byPath = new Map<ByteString, Hashed>();

  /**
   * Whether the file at `path` (lstat `st`, taken after `beforeNs`) holds `id`. A file hashed
   * before is not read again while its lstat is the same in every field (inode, device, size,
   * mode, mtime, ctime) and its ctime lies before the moment that hash began, by a margin:
   * git's racy-clean rule. Any write since changes ctime to a time after it, which the clock's
   * coarseness cannot fold back onto the old value across the margin. Else `hash` reads it.
   */
  async check(
    path: ByteString,
    id: Hash,
    st: BigIntStats,
    beforeNs: bigint,
    hash: () => Promise<Hash>,
  ): Promise<boolean> {
    const h = this.byPath.get(path);
    if (h !== undefined && h.id === id && sameStat(h.st, st) && st.ctimeNs < h.beforeNs) {
      return true;
    }
    const got = await hash();
    if (got === id) this.byPath.set(path, { st, id, beforeNs });
    else this.byPath.delete(path);
    return got === id;
  }
}

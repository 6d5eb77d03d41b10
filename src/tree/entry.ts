// A tree entry: one name in a directory listing, with every field the merge treats separately.
import type { ByteString } from './bytes.js';
import type { Hash } from './hash.js';
import type { SkimCache } from './skims.js';

export type Kind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev';
export const KINDS: readonly Kind[] = [
  'file',
  'dir',
  'symlink',
  'fifo',
  'socket',
  'chardev',
  'blockdev',
];

/** An extended attribute: (name bytes, value bytes). Only `user.*` attributes are recorded. */
export type Xattr = readonly [name: ByteString, value: Buffer];

export interface Entry {
  readonly name: ByteString;
  readonly kind: Kind;
  /** The 12 permission bits (suid, sgid, sticky, rwx×3): `st_mode & 0o7777`. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content (file), of the target (symlink); 0 otherwise. */
  readonly size: number;
  /** Modification time in nanoseconds since the epoch. */
  readonly mtimeNs: bigint;
  /**
   * Content id: BLAKE3 of the content (file), of the tree encoding (dir). Absent for a file
   * known only by its stamp (size, mtime) whose content was never read (DESIGN decision 4).
   */
  readonly id?: Hash;
  /** Symlink target bytes. */
  readonly target?: ByteString;
  /** Device number (chardev, blockdev). */
  readonly rdev?: number;
  /** User xattrs, sorted by name bytes; absent when there are none. */
  readonly xattrs?: readonly Xattr[];
  /**
   * Hard-link group of a regular file that shares its inode with another file of the same
   * snapshot: the path (relative to the snapshot's root, byte order) of the group's first
   * member, so every member carries the same key and equal trees still hash equal (links.ts).
   * Absent for a file with one name in the tree. Snapshots, diff scans and a sync's scans of
   * a side whose inode numbers show links record it. The merge decides no field by it
   * (changedFields never reports it); the plan makes a put a link by it (merge/links.ts).
   */
  readonly link?: ByteString;
}

/** A directory listing: entries sorted by name bytes, names unique. */
export type Tree = readonly Entry[];

/** Reads trees by id. Synchronous: trees live in LMDB, whose reads do not wait. */
export interface TreeReader {
  readTree(id: Hash): Tree;
  /**
   * The tree's canonical encoding, verified against its id. Optional: walks zip listings as
   * bytes, and encode \`readTree\`'s listing where a reader has no bytes of its own.
   */
  treeBytes?(id: Hash): Uint8Array;
  /**
   * Listings this reader's owner keeps skimmed for walks (skims.ts). Optional: without it
   * each walk reads and skims every listing it zips.
   */
  readonly skims?: SkimCache | undefined;
}

export function xattrsEqual(
  a: readonly Xattr[] | undefined,
  b: readonly Xattr[] | undefined,
): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p[0] !== q[0] || !p[1].equals(q[1])) return false;
  }
  return true;
}

/**
 * The fields that can differ between two entries of the same name, each merged separately
 * (MERGE.md rule F). `content` covers the content id, size and symlink target; `mtime` is
 * reported but never conflicts on its own. `links` (a file's hard-link group) is reported by
 * diff only (merge/diff.ts): changedFields leaves it out, so no name conflicts by it; the plan
 * uses it to make a copy a link (merge/links.ts, MERGE.md rule H).
 */
export type Field =
  'kind' | 'content' | 'mode' | 'uid' | 'gid' | 'mtime' | 'rdev' | 'xattrs' | 'links';

/** Every field, for readers that check a stored field list. */
export const FIELDS: readonly Field[] = [
  'kind',
  'content',
  'mode',
  'uid',
  'gid',
  'mtime',
  'rdev',
  'xattrs',
  'links',
];

/**
 * The fields in which b differs from a (same name assumed). Directory mtimes are ignored
 * (they change whenever a child does, which the children already say); content of two
 * directories differs when their tree ids differ.
 */
export function changedFields(a: Entry, b: Entry): Field[] {
  if (a.kind !== b.kind) return ['kind'];
  const out: Field[] = [];
  if (!sameContent(a, b)) out.push('content');
  if (a.mode !== b.mode) out.push('mode');
  if (a.uid !== b.uid) out.push('uid');
  if (a.gid !== b.gid) out.push('gid');
  if (a.kind !== 'dir' && a.mtimeNs !== b.mtimeNs) out.push('mtime');
  if (a.rdev !== b.rdev) out.push('rdev');
  if (!xattrsEqual(a.xattrs, b.xattrs)) out.push('xattrs');
  return out;
}

/**
 * Same content (same kind assumed). With both content ids known, the ids decide; a file known
 * only by its stamp (no id, DESIGN decision 4) is the same as another when size and mtime
 * match — the stamp rule that server change detection relies on.
 */
export function sameContent(a: Entry, b: Entry): boolean {
  if (a.size !== b.size || a.target !== b.target) return false;
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  if (a.kind === 'dir') return false;
  // A symlink's content is its target (compared above); fifos, sockets and devices have none.
  if (a.kind !== 'file') return true;
  return a.mtimeNs === b.mtimeNs;
}

/** Exactly equal, field by field (what a tree id equality implies for a whole listing). */
export function entriesEqual(a: Entry, b: Entry): boolean {
  return (
    a.name === b.name &&
    a.kind === b.kind &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.id === b.id &&
    a.target === b.target &&
    a.rdev === b.rdev &&
    a.link === b.link &&
    xattrsEqual(a.xattrs, b.xattrs)
  );
}

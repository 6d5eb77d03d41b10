// What a read-only view serves: a source answers, for a path inside the view, the entry there
// (the tree model's Entry: kind, mode, owner, size, mtime, target, xattrs) and where its bytes
// come from. Sources are trees in the store (snapshots, base, server), a real directory (the
// local view), or a fixed directory of named sub-views (the hidden `.tether/` tree). The
// handlers (handlers.ts) know only this interface.
import { createHash } from 'node:crypto';
import { constants as C } from 'node:fs';
import type { Stat } from '../fuse/operations.js';
import type { Path } from '../merge/plan.js';
import type { ByteString, Entry, Hash, Kind } from '../tree/index.js';

/** Where a file's bytes are: a store blob, a real file, or nowhere this side has. */
export type Content =
  | { readonly from: 'blob'; readonly id: Hash }
  | { readonly from: 'file'; readonly abs: Buffer }
  | { readonly from: 'none'; readonly why: string };

export interface ViewNode {
  readonly entry: Entry;
  /** For files only. */
  readonly content?: Content;
  /**
   * A file of a hard-link group the tree records (Entry.link): the path of the group's first
   * member, relative to the source's root, and how many names the group has. Every member
   * shows that member's inode number.
   */
  readonly links?: { readonly first: Path; readonly count: number };
  /**
   * What the node's inode number is made from besides its path: a tree shown again at the
   * same path with other content (a snapshot removed and taken again) gets new inodes, so
   * nothing the kernel kept of the old one is taken for the new one's.
   */
  readonly space?: string;
}

export interface ViewSource {
  /** The node at `path` ('' is the root), or undefined when nothing is there. */
  lookup(path: Path): Promise<ViewNode | undefined>;
  /** The names in the directory at `path`, or undefined when it is not a directory. */
  list(path: Path): Promise<ByteString[] | undefined>;
  /**
   * Reads a directory as it is now (dir-source.ts): an earlier root shows the same, so what
   * changed cannot be told by comparing roots (changes.ts invalidates all it cached).
   */
  readonly live?: boolean;
}

/** When this process started: the time of the directories a view makes up. */
const STARTED_NS = BigInt(Date.now()) * 1_000_000n;

/** A directory entry made up by a view (the root of a tree, a synthetic directory). */
export function dirEntry(name: ByteString, mtimeNs = STARTED_NS, id?: Hash): Entry {
  return {
    name,
    kind: 'dir',
    mode: 0o555,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    size: 0,
    mtimeNs,
    ...(id === undefined ? {} : { id }),
  };
}

const TYPE_BITS: Record<Kind, number> = {
  file: C.S_IFREG,
  dir: C.S_IFDIR,
  symlink: C.S_IFLNK,
  fifo: C.S_IFIFO,
  socket: C.S_IFSOCK,
  chardev: C.S_IFCHR,
  blockdev: C.S_IFBLK,
};

/** A stable inode number for a path of a view (48 bits of a hash: no table to keep). */
export function inodeOf(viewPath: string): bigint {
  const h = createHash('sha256').update(viewPath, 'latin1').digest();
  return h.readBigUInt64LE(0) & 0xffff_ffff_ffffn || 1n;
}

/**
 * The attributes the kernel sees for `node` at `viewPath` (a handler path, '/' the root, of
 * the source the node came from): hard links show one inode, the first member's.
 */
export function statOf(node: ViewNode, viewPath: string): Stat {
  const { entry, links, space } = node;
  const named = links === undefined ? viewPath : `/${links.first}`;
  const size = entry.kind === 'file' || entry.kind === 'symlink' ? entry.size : 0;
  return {
    mode: TYPE_BITS[entry.kind] | (entry.mode & 0o7777),
    uid: entry.uid,
    gid: entry.gid,
    size: BigInt(size),
    dev: 0,
    nlink: entry.kind === 'dir' ? 2 : (links?.count ?? 1),
    ino: inodeOf(space === undefined ? named : `${space}\0${named}`),
    rdev: entry.rdev ?? 0,
    blksize: 4096,
    blocks: BigInt(Math.ceil(size / 512)),
    atimeNs: entry.mtimeNs,
    mtimeNs: entry.mtimeNs,
    ctimeNs: entry.mtimeNs,
  };
}

/** `a/b/c` → ['a/b', 'c']; a top-level name has parent ''. */
export function splitPath(path: Path): [Path, ByteString] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

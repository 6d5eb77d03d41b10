// tether's own libfuse 3 low-level binding (native/lowlevel*.c, built where libfuse3-dev is
// installed): its types and its loader. The addon carries requests and replies only; the node
// table and the handlers are in JavaScript (lowlevel.ts). A request is a number (libfuse's
// request handle); node ids, file handles and offsets are numbers too.
import { createRequire } from 'node:module';
import type { Stat } from './operations.js';

/** The call/reply layout this code speaks (the addon's exported abi). */
export const ABI = 13;

/** Request kinds, numbered as in native/lowlevel.h. */
export const OP = {
  exit: 0,
  lookup: 1,
  forget: 2,
  getattr: 3,
  setattr: 4,
  readlink: 5,
  mknod: 6,
  mkdir: 7,
  unlink: 8,
  rmdir: 9,
  symlink: 10,
  rename: 11,
  link: 12,
  open: 13,
  read: 14,
  write: 15,
  flush: 16,
  release: 17,
  fsync: 18,
  opendir: 19,
  readdir: 20,
  readdirplus: 21,
  releasedir: 22,
  fsyncdir: 23,
  statfs: 24,
  setxattr: 25,
  getxattr: 26,
  listxattr: 27,
  removexattr: 28,
  access: 29,
  create: 30,
  /** A create the session thread answered itself: no reply (lowlevel-created.ts). */
  created: 32,
  /**
   * Held notes (created, release) sent as one call: never handed to a handler, only counted
   * beside the kernel's requests (kernelCounts).
   */
  notes: 33,
} as const;

/**
 * One request: `ino` is the node (the parent for lookup, mknod, mkdir, unlink, rmdir,
 * symlink, rename and create); a1–a4 are the request's own arguments (see lowlevel.ts for
 * each kind); uid, gid, pid and umask are the caller's.
 */
export type RequestHandler = (
  op: number,
  req: number,
  ino: number,
  a1: number | Buffer,
  a2: number | Float64Array,
  a3: number | Buffer,
  a4: number,
  uid: number,
  gid: number,
  pid: number,
  umask: number,
) => void;

/** Fields per node in an attribute array (native/lowlevel_reply.c). */
export const ATTR_FIELDS = 17;
const A = { node: 0, generation: 1, ino: 2, mode: 3, nlink: 4, uid: 5, gid: 6, rdev: 7 };
const B = { size: 8, blksize: 9, blocks: 10, atime: 11, mtime: 13, ctime: 15 };

/** Open reply bits. */
export const OPEN_DIRECT_IO = 1;
export const OPEN_KEEP_CACHE = 2;
export const OPEN_CACHE_DIR = 4;

/** setattr's to_set bits (fuse_lowlevel.h FUSE_SET_ATTR_*). */
export const SET = {
  mode: 1,
  uid: 2,
  gid: 4,
  size: 8,
  atime: 16,
  mtime: 32,
  atimeNow: 128,
  mtimeNow: 256,
} as const;

export type Session = object & { readonly __session: unique symbol };

export interface LowLevelAddon {
  readonly abi: number;
  mount(mountpoint: string, options: string, handler: RequestHandler): Session;
  destroy(session: Session): void;
  notifyInvalInode(session: Session, node: number): void;
  notifyInvalEntry(session: Session, parent: number, name: Buffer): void;
  /** The session thread serves fd's reads and writes itself (true if it can). */
  setDirect(session: Session, fd: number, on: boolean): boolean;
  /**
   * Whether the session thread sets the owners of the files it serves a descriptor of, as it
   * sets their modes and times (on only while a chown is the local view's alone; turned off,
   * returns once no chown begun before is still being made).
   */
  setOwners(session: Session, on: boolean): void;
  /** Whether fd was written directly since the last call. */
  takeWritten(session: Session, fd: number): boolean;
  /**
   * A local directory's entries with their attributes (rows of ATTR_FIELDS, node 0), names
   * starting with skipPrefix left out: the names (Latin-1 strings) joined by '/', and their
   * rows; or the errno when it cannot be listed.
   */
  listAttrs(path: Buffer, skipPrefix: Buffer): [string, Float64Array] | number;
  /**
   * The session thread may answer negative lookups in, getattr and getxattr of `node` from
   * `fd` (-1: no more; returns once the previous descriptor is out of its use).
   */
  setNodeFd(session: Session, node: number, fd: number): boolean;
  /**
   * A readdir of directory `node` at offset `end` is answered "no more entries" by the session
   * thread (0: no longer); whether it will.
   */
  setDirEnd(session: Session, node: number, end: number): boolean;
  /** The attribute and negative-entry lifetimes of what the session thread answers itself. */
  setTimes(session: Session, attr: number, negative: number): void;
  /**
   * Whether the session thread makes new files itself (native/lowlevel_create.c); `rootFd`, a
   * descriptor of the mount's root to make them there too (-1: none; returns once the
   * previous one is out of use).
   */
  setCreates(session: Session, on: boolean, entryTimeout: number, rootFd?: number): void;
  /** Node ids [first, first + count) for those creates; false while the last block is unused. */
  giveNodeIds(session: Session, first: number, count: number): boolean;
  /** How many created calls the session thread has sent so far. */
  createdSent(session: Session): number;
  /** [calls queued to JavaScript, calls it has taken from the queue], counted natively. */
  callsCounted(session: Session): [number, number];
  /**
   * Requests by kind (indexed as OP) as the kernel sent them, answered natively or not, and
   * the batches of notes sent to JavaScript (OP.notes).
   */
  kernelCounts(session: Session): Float64Array;
  replyErr(req: number, errno: number): number;
  replyEntry(req: number, attrs: Float64Array, attrTimeout: number, entryTimeout: number): number;
  replyCreate(
    req: number,
    attrs: Float64Array,
    attrTimeout: number,
    entryTimeout: number,
    fh: number,
    openFlags: number,
  ): number;
  replyAttr(req: number, attrs: Float64Array, attrTimeout: number): number;
  replyOpen(req: number, fh: number, openFlags: number): number;
  replyBuf(req: number, data: Buffer, length: number): number;
  replyReadlink(req: number, target: Buffer): number;
  replyWrite(req: number, count: number): number;
  replyXattr(req: number, size: number): number;
  replyStatfs(req: number, values: Float64Array): number;
  /**
   * Sends the entries from index `start` that fit in `size` bytes (entry i's offset is i + 1;
   * an empty name is skipped) and returns the index of the first entry not sent.
   */
  replyDir(
    req: number,
    size: number,
    plus: boolean,
    start: number,
    /** Latin-1 strings, one code unit a byte. */
    names: string[],
    attrs: Float64Array,
    attrTimeout: number,
    entryTimeout: number,
  ): number;
}

let cached: LowLevelAddon | null | undefined;

/** The addon, or undefined where it is not built (no libfuse3-dev) or is a stale build. */
export function loadLowLevel(): LowLevelAddon | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const require = createRequire(import.meta.url);
  cached = null;
  for (const p of [
    '../../../build/Release/tether_fuse.node',
    '../build/Release/tether_fuse.node',
  ]) {
    try {
      const a = require(p) as LowLevelAddon;
      if (a.abi === ABI) {
        cached = a;
        break;
      }
    } catch {
      // not built here: try the next place
    }
  }
  return cached ?? undefined;
}

const nsOf = (t: bigint | undefined, fallback: Date | number | undefined): bigint => {
  if (t !== undefined) return t;
  if (fallback instanceof Date) return BigInt(fallback.getTime()) * 1_000_000n;
  return BigInt(Math.round((fallback ?? 0) * 1e6)) * 1000n;
};

function putTime(out: Float64Array, at: number, ns: bigint): void {
  // Floor division, so a time before 1970 keeps a non-negative nanosecond part.
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += 1_000_000_000n;
  }
  out[at] = Number(sec);
  out[at + 1] = Number(nsec);
}

/** Writes a node's attributes at row `row` of `out`. */
export function putAttrs(out: Float64Array, row: number, node: number, st: Stat): void {
  const o = row * ATTR_FIELDS;
  out[o + A.node] = node;
  out[o + A.generation] = 0;
  out[o + A.ino] = Number(st.ino ?? 0);
  out[o + A.mode] = st.mode;
  out[o + A.nlink] = st.nlink ?? 1;
  out[o + A.uid] = st.uid;
  out[o + A.gid] = st.gid;
  out[o + A.rdev] = st.rdev ?? 0;
  out[o + B.size] = Number(st.size);
  out[o + B.blksize] = st.blksize ?? 4096;
  out[o + B.blocks] = Number(st.blocks ?? 0);
  putTime(out, o + B.atime, nsOf(st.atimeNs, st.atime));
  putTime(out, o + B.mtime, nsOf(st.mtimeNs, st.mtime));
  putTime(out, o + B.ctime, nsOf(st.ctimeNs, st.ctime));
}

/** One node's attributes as the replies want them. */
export function attrsOf(node: number, st: Stat): Float64Array {
  const out = new Float64Array(ATTR_FIELDS);
  putAttrs(out, 0, node, st);
  return out;
}

/** The node id a row of an attribute array carries. */
export const nodeAt = (attrs: Float64Array, row: number): number => attrs[row * ATTR_FIELDS] ?? 0;

// The handler table the FUSE binding drives (DESIGN decision 21): operations keyed by path,
// answered through callbacks, independent of the binding. The low-level binding (lowlevel.ts)
// turns its node-id requests into these calls through its node table (nodes.ts).
// Conventions:
// - Paths and names (paths, readdir names, symlink targets, xattr names) are Latin-1 strings:
//   one UTF-16 code unit per byte, so any byte string round-trips (nameBytes). Readdir
//   names and readlink targets may also be answered as Buffers; pass Buffers to node:fs.
// - Every handler gets the request's caller as one extra argument after its callback.
// - A path is null only on an operation through an open file whose name is gone; such handlers
//   answer from the file descriptor they were given.
// - Errors are negative errno numbers; read and write answer a byte count.

/** Who made the request: the uid, gid, pid and umask the kernel sent with it. */
export interface Caller {
  uid: number;
  gid: number;
  pid: number;
  umask: number;
}

/** A time from utimens: nsec may be UTIME_NOW or UTIME_OMIT. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** utimens: a Timespec whose nsec is UTIME_NOW means "now", UTIME_OMIT "leave as it is". */
/** O_ACCMODE, the access-mode bits of open's flags (not among node's constants). */
export const O_ACCMODE = 3;
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

/**
 * Attributes answered by getattr, fgetattr and readdirAttrs. Times: a bigint of nanoseconds in
 * atimeNs/mtimeNs/ctimeNs (exact) wins over atime/mtime/ctime (a Date or milliseconds). size,
 * ino and blocks may be bigints (64-bit exact).
 */
export interface Stat {
  mode: number;
  uid: number;
  gid: number;
  size: number | bigint;
  ino?: number | bigint;
  nlink?: number;
  rdev?: number;
  dev?: number;
  blksize?: number;
  blocks?: number | bigint;
  atime?: Date | number;
  mtime?: Date | number;
  ctime?: Date | number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
}

export interface Statfs {
  bsize: number;
  frsize: number;
  blocks: number | bigint;
  bfree: number | bigint;
  bavail: number | bigint;
  files: number | bigint;
  ffree: number | bigint;
  favail: number | bigint;
  fsid?: number;
  flag?: number;
  namemax: number;
}

/** A directory's entries with their attributes: rows as lowlevel-addon.ts's putAttrs writes them (node 0). */
export interface AttrListing {
  /**
   * The names' bytes as Latin-1 strings (one code unit a byte, as paths are): a string costs
   * a listing of thousands of names far less than a Buffer each.
   */
  readonly names: string[];
  readonly attrs: Float64Array;
}

type Done = (err: number) => void;
type Path = string;

export interface Operations {
  init?: (cb: Done) => void;
  access?: (path: Path, mode: number, cb: Done, caller: Caller) => void;
  statfs?: (path: Path, cb: (err: number, st?: Statfs) => void, caller: Caller) => void;
  getattr?: (path: Path, cb: (err: number, st?: Stat) => void, caller: Caller) => void;
  fgetattr?: (
    path: Path | null,
    fd: number,
    cb: (err: number, st?: Stat) => void,
    caller: Caller,
  ) => void;
  flush?: (path: Path | null, fd: number, cb: Done, caller: Caller) => void;
  fsync?: (path: Path | null, datasync: number, fd: number, cb: Done, caller: Caller) => void;
  readdir?: (
    path: Path,
    cb: (err: number, names?: (Path | Buffer)[], stats?: Stat[]) => void,
    caller: Caller,
  ) => void;
  /**
   * Optional, for readdirplus: a directory's entries (. and .. included) with their
   * attributes, in one call. ENOSYS where it cannot: the binding then lists the names and
   * stats each.
   */
  readdirAttrs?: (
    path: Path,
    cb: (err: number, listing?: AttrListing) => void,
    caller: Caller,
  ) => void;
  truncate?: (path: Path, size: number, cb: Done, caller: Caller) => void;
  ftruncate?: (path: Path | null, fd: number, size: number, cb: Done, caller: Caller) => void;
  utimens?: (path: Path, atime: Timespec, mtime: Timespec, cb: Done, caller: Caller) => void;
  readlink?: (
    path: Path,
    cb: (err: number, target?: Path | Buffer) => void,
    caller: Caller,
  ) => void;
  chown?: (path: Path, uid: number, gid: number, cb: Done, caller: Caller) => void;
  chmod?: (path: Path, mode: number, cb: Done, caller: Caller) => void;
  mknod?: (path: Path, mode: number, dev: number, cb: Done, caller: Caller) => void;
  setxattr?: (
    path: Path,
    name: string,
    value: Buffer,
    position: number,
    flags: number,
    cb: Done,
    caller: Caller,
  ) => void;
  getxattr?: (
    path: Path,
    name: string,
    position: number,
    cb: (err: number, value?: Buffer | null) => void,
    caller: Caller,
  ) => void;
  listxattr?: (path: Path, cb: (err: number, names?: string[]) => void, caller: Caller) => void;
  removexattr?: (path: Path, name: string, cb: Done, caller: Caller) => void;
  open?: (
    path: Path,
    flags: number,
    cb: (err: number, fd?: number) => void,
    caller: Caller,
  ) => void;
  /** Answers the number of bytes read into buf (0 at end of file), or a negative errno. */
  read?: (
    path: Path | null,
    fd: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (result: number) => void,
    caller: Caller,
  ) => void;
  /** Answers the number of bytes written from buf, or a negative errno. */
  write?: (
    path: Path | null,
    fd: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (result: number) => void,
    caller: Caller,
  ) => void;
  release?: (path: Path | null, fd: number, cb: Done, caller: Caller) => void;
  create?: (
    path: Path,
    mode: number,
    flags: number,
    cb: (err: number, fd?: number) => void,
    caller: Caller,
  ) => void;
  /**
   * Optional: a file the binding made itself at `path` in the directory behind the handlers
   * (as `create` would, the name new), open as `fd`; its release comes as for a create. null:
   * its directory has no name now.
   */
  created?: (path: Path | null, fd: number, cb: Done, caller: Caller) => void;
  /**
   * Optional: whether the binding may make files itself now (`created`); false sends each
   * create to `create`, which may refuse it (no room). Asked often: answers at once.
   */
  mayCreate?: () => boolean;
  /**
   * Optional: whether `chown` now only sets the owner in the directory behind the handlers
   * (then the binding may set owners itself, as it sets modes and times, of the files it
   * serves); absent: it may not. Asked often: answers at once.
   */
  ownersHere?: () => boolean;
  unlink?: (path: Path, cb: Done, caller: Caller) => void;
  rename?: (src: Path, dest: Path, cb: Done, caller: Caller) => void;
  link?: (src: Path, dest: Path, cb: Done, caller: Caller) => void;
  /** target is the link's content (bytes, as a Latin-1 string), path the new link. */
  symlink?: (target: Path, path: Path, cb: Done, caller: Caller) => void;
  mkdir?: (path: Path, mode: number, cb: Done, caller: Caller) => void;
  rmdir?: (path: Path, cb: Done, caller: Caller) => void;
}

/** A path or name from the binding as the bytes it stands for. */
export function nameBytes(name: string): Buffer {
  return Buffer.from(name, 'latin1');
}

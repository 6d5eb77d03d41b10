// Types of fuse-native 2.2.6 as patched by patches/fuse-native+2.2.6.patch (the package ships
// none). Conventions of the patched binding, which differ from its README:
// - Paths and names (paths, readdir names, symlink targets, xattr names) are Latin-1 strings:
//   one UTF-16 code unit per byte, so any byte string round-trips. Readdir names and readlink
//   targets may also be answered as Buffers.
// - Every handler gets the request's caller as one extra argument after its callback.
// - A path is null only on an operation through an open file whose name is gone (with
//   hardRemove); such handlers answer from the file descriptor they were given.
// - Errors are negative errno numbers; read, write, getxattr and listxattr answer a byte count.
// - Unimplemented operations answer ENOSYS; no request times out unless `timeout` is set.
declare module 'fuse-native' {
  namespace Fuse {
    /** Who made the request: fuse_get_context() of that request. */
    interface Caller {
      uid: number;
      gid: number;
      pid: number;
      umask: number;
    }

    /** A time from utimens: nsec may be UTIME_NOW or UTIME_OMIT. */
    interface Timespec {
      sec: number;
      nsec: number;
    }

    /**
     * Attributes answered by getattr, fgetattr and readdir. Times: a bigint of nanoseconds in
     * atimeNs/mtimeNs/ctimeNs (exact) wins over atime/mtime/ctime (a Date or milliseconds).
     * size, ino and blocks may be bigints (64-bit exact).
     */
    interface Stat {
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

    interface Statfs {
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

    type Done = (err: number) => void;
    type Path = string;

    interface Operations {
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
      fsyncdir?: (
        path: Path | null,
        datasync: number,
        fd: number,
        cb: Done,
        caller: Caller,
      ) => void;
      readdir?: (
        path: Path,
        cb: (err: number, names?: (Path | Buffer)[], stats?: Stat[]) => void,
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
      opendir?: (
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
      releasedir?: (path: Path | null, fd: number, cb: Done, caller: Caller) => void;
      create?: (
        path: Path,
        mode: number,
        flags: number,
        cb: (err: number, fd?: number) => void,
        caller: Caller,
      ) => void;
      unlink?: (path: Path, cb: Done, caller: Caller) => void;
      rename?: (src: Path, dest: Path, cb: Done, caller: Caller) => void;
      link?: (src: Path, dest: Path, cb: Done, caller: Caller) => void;
      /** target is the link's content (bytes, as a Latin-1 string), path the new link. */
      symlink?: (target: Path, path: Path, cb: Done, caller: Caller) => void;
      mkdir?: (path: Path, mode: number, cb: Done, caller: Caller) => void;
      rmdir?: (path: Path, cb: Done, caller: Caller) => void;
    }

    interface Options {
      debug?: boolean;
      force?: boolean;
      mkdir?: boolean;
      /** Milliseconds before a request is answered ETIMEDOUT; off unless set. */
      timeout?: number | false;
      allowOther?: boolean;
      allowRoot?: boolean;
      autoUnmount?: boolean;
      defaultPermissions?: boolean;
      fsname?: string;
      subtype?: string;
      kernelCache?: boolean;
      autoCache?: boolean;
      entryTimeout?: number;
      attrTimeout?: number;
      negativeTimeout?: number;
      acAttrTimeout?: number;
      useIno?: boolean;
      readdirIno?: boolean;
      bigWrites?: boolean;
      maxWrite?: number;
      maxRead?: number;
      hardRemove?: boolean;
      intr?: boolean;
      /** More -o options, passed as they are. */
      options?: string[];
    }
  }

  class Fuse {
    constructor(mountpoint: string, ops: Fuse.Operations, opts?: Fuse.Options);
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static unmount(mountpoint: string, cb: (err: Error | null) => void): void;
    /** Revision of the patch the loaded binary carries; 0 for a stock build. */
    static readonly patchLevel: number;
    static readonly UTIME_NOW: number;
    static readonly UTIME_OMIT: number;
  }

  export = Fuse;
}

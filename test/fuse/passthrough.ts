// A passthrough filesystem over a backing directory, on tether's low-level binding: the test
// fixture that proves the binding through a real mount, and the first target of the POSIX
// differential suite. Not product code: it answers with synchronous node:fs calls (the serving
// process touches only the backing directory, never the mount, so blocking cannot deadlock).
//
// What it does that a naive passthrough does not, each needed for local-disk behaviour:
// - names are bytes (Latin-1 strings from the binding, Buffers to node:fs);
// - new files, directories, nodes and symlinks get the caller's uid and gid (the parent's gid
//   in a set-gid directory), and a set-uid/set-gid mode is re-applied after that chown;
// - operations through an open file use its descriptor (fstat, ftruncate, read, write);
// - paths longer than PATH_MAX are reached through opened leading directories.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import type { BigIntStats } from 'node:fs';
import { nameBytes, UTIME_NOW, UTIME_OMIT } from '../../src/fuse/operations.js';
import type { Caller, Operations, Stat, Timespec } from '../../src/fuse/operations.js';
import { fsTime, fsTimeNs } from '../../src/fuse/times.js';
import { native } from '../../src/scan/native.js';
import { reachable } from '../../src/fuse/long-path.js';

const { O_CREAT, S_IFMT, S_IFIFO, S_IFCHR, S_IFBLK } = fs.constants;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const EIO = -5;
const ENOSYS = -38;
const EEXIST = -17;
const EPERM = -1;
const ENODATA = -61;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** The errno a failed call carries (node:fs: errno; the native helper: code), negated. */
function errnoOf(err: unknown): number {
  const { errno, code } = err as { errno?: unknown; code?: unknown };
  if (typeof errno === 'number' && errno < 0) return errno;
  const named =
    typeof code === 'string' ? (constants.errno as Record<string, number>)[code] : undefined;
  return named === undefined ? EIO : -named;
}

function fail(errno: number): never {
  throw Object.assign(new Error(`errno ${errno}`), { errno });
}

/** mkfifo(1) in the directory open as dirFd (handed to it as fd 3: any bytes, any length). */
function mkfifoAt(dirFd: number, name: string, mode: number): void {
  const r = spawnSync('mkfifo', ['-m', mode.toString(8), `/proc/self/fd/3/${name}`], {
    stdio: ['ignore', 'ignore', 'ignore', dirFd],
    timeout: 10_000,
  });
  if (r.status !== 0) fail(EIO);
}

export function toStat(s: BigIntStats): Stat {
  return {
    mode: Number(s.mode),
    uid: Number(s.uid),
    gid: Number(s.gid),
    size: s.size,
    ino: s.ino,
    nlink: Number(s.nlink),
    rdev: Number(s.rdev),
    dev: Number(s.dev),
    blksize: Number(s.blksize),
    blocks: s.blocks,
    atimeNs: s.atimeNs,
    mtimeNs: s.mtimeNs,
    ctimeNs: s.ctimeNs,
  };
}

/** A utimens time for fs.utimes (UTIME_OMIT keeps `current`, in nanoseconds). */
function seconds(t: Timespec, current: bigint): number | Date {
  if (t.nsec === UTIME_NOW) return Date.now() / 1000;
  return t.nsec === UTIME_OMIT ? fsTimeNs(current) : fsTime(BigInt(t.sec), BigInt(t.nsec));
}

export function passthrough(root: string): Operations {
  const rootBytes = Buffer.from(root);
  // Run fn on the backing path of p (reached through opened directories if it is long).
  const at = <T>(p: string, fn: (real: Buffer) => T): T => {
    const fds: number[] = [];
    try {
      return fn(reachable(Buffer.concat([rootBytes, nameBytes(p)]), fds));
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  };
  const parentOf = (p: string): string => p.slice(0, Math.max(1, p.lastIndexOf('/')));

  // The owner a new entry gets: the caller, with the parent's group in a set-gid directory.
  const own = (p: string, c: Caller): [number, number] => {
    const parent = at(parentOf(p), (r) => fs.statSync(r));
    return [c.uid, parent.mode & S_ISGID ? parent.gid : c.gid];
  };

  // Answer cb with fn's result, or with the errno fn threw.
  const answer = (cb: (err: number) => void, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      cb(errnoOf(err));
      return;
    }
    cb(0);
  };

  return {
    getattr(p, cb) {
      try {
        cb(0, toStat(at(p, (r) => fs.lstatSync(r, { bigint: true }))));
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    fgetattr(_p, fd, cb) {
      try {
        cb(0, toStat(fs.fstatSync(fd, { bigint: true })));
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    // The kernel checks permissions itself (default_permissions): access only asks that p exists.
    access(p, _mode, cb) {
      answer(cb, () => at(p, (r) => fs.lstatSync(r)));
    },
    statfs(p, cb) {
      try {
        const s = at(p, (r) => fs.statfsSync(r, { bigint: true }));
        const bsize = Number(s.bsize);
        cb(0, {
          bsize,
          frsize: bsize,
          blocks: s.blocks,
          bfree: s.bfree,
          bavail: s.bavail,
          files: s.files,
          ffree: s.ffree,
          favail: s.ffree,
          namemax: 255,
        });
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    readdir(p, cb) {
      try {
        const names = at(p, (r) => fs.readdirSync(r, { encoding: 'buffer' }));
        cb(0, [Buffer.from('.'), Buffer.from('..'), ...names]);
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    readlink(p, cb) {
      try {
        cb(
          0,
          at(p, (r) => fs.readlinkSync(r, { encoding: 'buffer' })),
        );
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    open(p, flags, cb) {
      try {
        cb(
          0,
          at(p, (r) => fs.openSync(r, flags)),
        );
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    create(p, mode, flags, cb, caller) {
      let fd: number;
      try {
        fd = at(p, (r) => fs.openSync(r, flags | O_CREAT, mode));
        const [uid, gid] = own(p, caller);
        fs.fchownSync(fd, uid, gid);
        // chown clears set-uid/set-gid; the caller asked for them.
        if (mode & (S_ISUID | S_ISGID)) fs.fchmodSync(fd, mode & 0o7777);
      } catch (err) {
        cb(errnoOf(err));
        return;
      }
      cb(0, fd);
    },
    read(_p, fd, buf, len, pos, cb) {
      try {
        cb(fs.readSync(fd, buf, 0, len, pos));
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    write(_p, fd, buf, len, pos, cb) {
      try {
        cb(fs.writeSync(fd, buf, 0, len, pos));
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    flush(_p, _fd, cb) {
      cb(0);
    },
    fsync(_p, datasync, fd, cb) {
      answer(cb, () => {
        if (datasync) fs.fdatasyncSync(fd);
        else fs.fsyncSync(fd);
      });
    },
    release(_p, fd, cb) {
      answer(cb, () => {
        fs.closeSync(fd);
      });
    },
    truncate(p, size, cb) {
      answer(cb, () => {
        at(p, (r) => {
          fs.truncateSync(r, size);
        });
      });
    },
    ftruncate(_p, fd, size, cb) {
      answer(cb, () => {
        fs.ftruncateSync(fd, size);
      });
    },
    utimens(p, atime, mtime, cb) {
      answer(cb, () => {
        at(p, (r) => {
          const s = fs.lstatSync(r, { bigint: true });
          fs.lutimesSync(r, seconds(atime, s.atimeNs), seconds(mtime, s.mtimeNs));
        });
      });
    },
    chmod(p, mode, cb) {
      answer(cb, () => {
        at(p, (r) => {
          fs.chmodSync(r, mode);
        });
      });
    },
    chown(p, uid, gid, cb) {
      // (uid_t)-1 means "leave as it is", as for chown(2).
      answer(cb, () => {
        at(p, (r) => {
          const s = fs.lstatSync(r);
          fs.lchownSync(r, uid === 0xffffffff ? s.uid : uid, gid === 0xffffffff ? s.gid : gid);
        });
      });
    },
    mkdir(p, mode, cb, caller) {
      answer(cb, () => {
        at(p, (r) => {
          fs.mkdirSync(r, mode);
          const [uid, gid] = own(p, caller);
          fs.chownSync(r, uid, gid);
        });
      });
    },
    mknod(p, mode, dev, cb, caller) {
      // node:fs has no mknod: the native helper makes any type; without it, a fifo is made by
      // mkfifo(1) under an ASCII name, then renamed. Devices are root's alone (FUSE leaves the
      // CAP_MKNOD check to the file system).
      const type = mode & S_IFMT;
      if (native === undefined && type !== S_IFIFO) {
        cb(ENOSYS);
        return;
      }
      answer(cb, () => {
        at(p, (r) => {
          if (fs.existsSync(r)) fail(EEXIST);
          if (native !== undefined) {
            if ((type === S_IFCHR || type === S_IFBLK) && caller.uid !== 0) fail(EPERM);
            native.mknod(r, mode, dev);
            const [uid, gid] = own(p, caller);
            fs.lchownSync(r, uid, gid);
            if (mode & (S_ISUID | S_ISGID)) fs.chmodSync(r, mode & 0o7777);
            return;
          }
          const dir = r.subarray(0, r.lastIndexOf(0x2f) + 1);
          const name = `.fifo-${process.pid}`;
          const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
          try {
            mkfifoAt(dirFd, name, mode & 0o7777);
          } finally {
            fs.closeSync(dirFd);
          }
          fs.renameSync(Buffer.concat([dir, Buffer.from(name)]), r);
          const [uid, gid] = own(p, caller);
          fs.lchownSync(r, uid, gid);
          if (mode & (S_ISUID | S_ISGID)) fs.chmodSync(r, mode & 0o7777);
        });
      });
    },
    unlink(p, cb) {
      answer(cb, () => {
        at(p, (r) => {
          fs.unlinkSync(r);
        });
      });
    },
    rmdir(p, cb) {
      answer(cb, () => {
        at(p, (r) => {
          fs.rmdirSync(r);
        });
      });
    },
    rename(src, dest, cb) {
      answer(cb, () => {
        at(src, (a) => {
          at(dest, (b) => {
            fs.renameSync(a, b);
          });
        });
      });
    },
    link(src, dest, cb) {
      answer(cb, () => {
        at(src, (a) => {
          at(dest, (b) => {
            fs.linkSync(a, b);
          });
        });
      });
    },
    symlink(target, p, cb, caller) {
      answer(cb, () => {
        at(p, (r) => {
          fs.symlinkSync(nameBytes(target), r);
          const [uid, gid] = own(p, caller);
          fs.lchownSync(r, uid, gid);
        });
      });
    },
    setxattr(p, name, value, _position, flags, cb) {
      answer(cb, () => {
        at(p, (r) => {
          const n = nameBytes(name);
          const had = xattrs().xattrGet(r, n) !== null;
          if (flags & XATTR_CREATE && had) fail(EEXIST);
          if (flags & XATTR_REPLACE && !had) fail(ENODATA);
          xattrs().xattrSet(r, n, Buffer.from(value));
        });
      });
    },
    getxattr(p, name, _position, cb) {
      try {
        cb(
          0,
          at(p, (r) => xattrs().xattrGet(r, nameBytes(name))),
        );
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    listxattr(p, cb) {
      try {
        cb(
          0,
          at(p, (r) =>
            xattrs()
              .xattrNames(r)
              .map((n) => n.toString('latin1')),
          ),
        );
      } catch (err) {
        cb(errnoOf(err));
      }
    },
    removexattr(p, name, cb) {
      answer(cb, () => {
        at(p, (r) => {
          // The helper ignores a missing name; removexattr(2) does not.
          if (xattrs().xattrGet(r, nameBytes(name)) === null) fail(ENODATA);
          xattrs().xattrRemove(r, nameBytes(name));
        });
      });
    },
  };
}

function xattrs(): NonNullable<typeof native> {
  if (native === undefined) fail(ENOSYS);
  return native;
}

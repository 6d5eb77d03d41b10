// The FUSE handler table over a volume view (DESIGN decision 21; pnpm's habit: a factory kept
// apart from mounting, callable in tests without the kernel). A passthrough to the local view
// directory: its inodes are the mount's nodes, so hard links are one node, a rename moves a
// name, and an unlinked open file stays readable through its descriptor. The volume acts
// around the calls that need it (a placeholder fetched before an open, a flush after a
// change). Every handler answers exactly once, errors mapped in one place (errno.ts).
//
// Names cross the binding as Latin-1 strings, one code unit per byte (binding.ts): a FUSE path
// without its leading '/' is already a tree path (a byte string), and file system calls get
// the bytes as Buffers.
import {
  chmodSync,
  closeSync,
  constants as C,
  fstatSync,
  fsync,
  ftruncateSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  read,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  write,
} from 'node:fs';
import * as fs from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { native } from '../scan/native.js';
import { O_ACCMODE, UTIME_NOW, UTIME_OMIT, type Operations, type Timespec } from './operations.js';
import { ATTR_FIELDS, loadLowLevel } from './lowlevel-addon.js';
import { CheckedReads, type ReadCheck } from './checked-reads.js';
import { errno, errnoOf } from './errno.js';
import { LIMIT } from './long-path.js';
import { fuseStat } from './stat.js';
import { fsTime, fsTimeNs } from './times.js';
import type { VolumeView } from './view.js';
import { errOf, handlerContext, treePath } from './handler-context.js';
import { xattrHandlers } from './xattr-handlers.js';

export { ID_XATTR, STATE_XATTR } from './xattr-handlers.js';

// The local view is a directory on a local disk (never the remote, DESIGN decision 2), so its
// metadata calls are made synchronously: each would otherwise be a hop through libuv's pool
// of four threads, 60–90 µs measured, several times the call itself (decision 18). Content
// reads and writes that reach the handlers, and fsync, still go through the pool.
const pRead = promisify(read);
const pWrite = promisify(write);
const pFsync = promisify(fsync);
const fstatBig = (fd: number) => fstatSync(fd, { bigint: true });
const run = promisify(execFile);
const TEMP = Buffer.from(TEMP_PREFIX);
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

export function createHandlers(
  view: VolumeView,
  log: (line: string) => void = () => undefined,
  /** Descriptors of partial files, whose reads are checked (the binding is told of them). */
  checked: CheckedReads = new CheckedReads(),
): Operations {
  const ctx = handlerContext(view, log);
  const { full, answer, count, changed, own } = ctx;
  /** Descriptors written through, so their release is a change. */
  const written = new Set<number>();
  const timeOf = (path: Buffer, t: Timespec, which: 'atime' | 'mtime'): number | Date => {
    if (t.nsec === UTIME_NOW) return Date.now() / 1000;
    if (t.nsec === UTIME_OMIT) {
      const st = lstatSync(path, { bigint: true });
      return fsTimeNs(which === 'atime' ? st.atimeNs : st.mtimeNs);
    }
    return fsTime(BigInt(t.sec), BigInt(t.nsec));
  };

  return {
    init: (cb) => {
      cb(0);
    },
    access: (p, mode, cb) => {
      answer(cb, (reach) => fs.access(reach(p), mode));
    },
    statfs: (_p, cb) => {
      answer(cb, async () => {
        const s = await fs.statfs(view.root);
        return {
          bsize: s.bsize,
          frsize: s.bsize,
          blocks: s.blocks,
          bfree: s.bfree,
          bavail: s.bavail,
          files: s.files,
          ffree: s.ffree,
          favail: s.ffree,
          namemax: 255,
        };
      });
    },
    getattr: (p, cb) => {
      // The hot path (every lookup and stat): answered at once, and "no such name", the answer
      // to most lookups of a create, without an exception.
      const whole = full(p);
      if (whole.length < LIMIT) {
        let st;
        try {
          st = lstatSync(whole, { bigint: true, throwIfNoEntry: false });
        } catch (err) {
          cb(errnoOf(err, log));
          return;
        }
        if (st === undefined) cb(ENOENT);
        else cb(0, fuseStat(st));
        return;
      }
      answer(cb, (reach) => Promise.resolve(fuseStat(lstatSync(reach(p), { bigint: true }))));
    },
    fgetattr: (_p, fd, cb) => {
      // By descriptor: an unlinked open file still has its attributes.
      answer(cb, () => Promise.resolve(fuseStat(fstatBig(fd))));
    },
    readdir: (p, cb) => {
      answer(cb, (reach) => {
        const names = readdirSync(reach(p), { encoding: 'buffer' });
        // The engine's temporary files are never part of the volume; . and .. are (programs
        // that copy a directory's listing count on them).
        const shown = names.filter((n) => !n.subarray(0, TEMP.length).equals(TEMP));
        return Promise.resolve([DOT, DOTDOT, ...shown]);
      });
    },
    readdirAttrs: (p, cb) => {
      // One native call lists the directory and stats every entry (the view is local).
      const ll = loadLowLevel();
      const whole = full(p);
      if (ll === undefined || whole.length >= LIMIT) {
        cb(ENOSYS);
        return;
      }
      const r = ll.listAttrs(whole, TEMP);
      if (typeof r === 'number') {
        cb(-r);
        return;
      }
      const [joined, attrs] = r;
      const names = joined === '' ? [] : joined.split('/');
      if (p === '/') {
        // The mount's root is its own parent: its .. shows the root, not the view's parent.
        const dot = names.indexOf('.');
        const dotdot = names.indexOf('..');
        if (dot >= 0 && dotdot >= 0) {
          attrs.copyWithin(dotdot * ATTR_FIELDS, dot * ATTR_FIELDS, (dot + 1) * ATTR_FIELDS);
        }
      }
      cb(0, { names, attrs });
    },
    readlink: (p, cb) => {
      answer(cb, (reach) => Promise.resolve(readlinkSync(reach(p), { encoding: 'buffer' })));
    },
    open: (p, flags, cb) => {
      answer(cb, async (reach) => {
        const path = treePath(p);
        const trunc = (flags & C.O_TRUNC) !== 0 && (flags & O_ACCMODE) !== C.O_RDONLY;
        const readOnly = (flags & O_ACCMODE) === C.O_RDONLY;
        let partial: ReadCheck | undefined;
        if (!readOnly) await view.room?.(path, 'open');
        // Opened to be overwritten, a placeholder's old content is not wanted (by any name).
        if (trunc) await view.emptied(path);
        else if (readOnly && view.presentToRead !== undefined) {
          partial = await view.presentToRead(path, 'open');
        } else await view.present(path, 'open');
        // The kernel gives each write its offset, O_APPEND included.
        const fd = openSync(reach(p), flags & ~C.O_APPEND);
        if (partial !== undefined) checked.add(fd, partial);
        if (trunc) {
          written.add(fd);
          changed(p);
        }
        return fd;
      });
    },
    create: (p, mode, flags, cb, caller) => {
      answer(cb, async (reach) => {
        await view.room?.(treePath(p), 'create');
        await view.forget(treePath(p));
        const fd = openSync(reach(p), (flags & ~C.O_APPEND) | C.O_CREAT, mode & 0o7777);
        own(reach(p), caller);
        written.add(fd);
        changed(p);
        return fd;
      });
    },
    created: (p, fd, cb) => {
      answer(cb, async () => {
        written.add(fd);
        if (p === null) return;
        // Noted as a write begun: the file is new and empty, and its release (written) notes
        // the change with what it then holds, as after any write.
        if (view.writing === undefined) changed(p);
        else view.writing(treePath(p));
        await view.forget(treePath(p));
      });
    },
    mayCreate: () => view.roomNow?.() ?? true,
    // chown below is an lchown and a note alone where the view has no owner hook, or says so.
    ownersHere: () => view.owner === undefined || view.ownersLocal?.() === true,
    read: (_p, fd, buf, len, pos, cb) => {
      const partial = checked.get(fd);
      const read = async (): Promise<number> => (await pRead(fd, buf, 0, len, pos)).bytesRead;
      count(cb, () => (partial === undefined ? read() : partial.serve(pos, len, read)));
    },
    write: (p, fd, buf, len, pos, cb) => {
      // The first write through a descriptor: the path differs from now on (its flush waits
      // for the release).
      if (!written.has(fd) && p !== null) view.writing?.(treePath(p));
      written.add(fd);
      // No bytes: the binding telling of writes its session thread made itself.
      if (len === 0) {
        cb(0);
        return;
      }
      count(cb, async () => (await pWrite(fd, buf, 0, len, pos)).bytesWritten);
    },
    flush: (_p, _fd, cb) => {
      cb(0);
    },
    fsync: (p, _datasync, fd, cb) => {
      answer(cb, async () => {
        await pFsync(fd);
        if (written.has(fd)) changed(p);
        await view.flush();
      });
    },
    release: (p, fd, cb) => {
      answer(cb, () => {
        checked.delete(fd);
        closeSync(fd);
        if (written.delete(fd)) changed(p);
        return Promise.resolve();
      });
    },
    truncate: (p, size, cb) => {
      answer(cb, async (reach) => {
        if (size === 0) await view.emptied(treePath(p));
        else {
          await view.room?.(treePath(p), 'truncate');
          await view.present(treePath(p), 'truncate');
        }
        truncateSync(reach(p), size);
        changed(p);
      });
    },
    ftruncate: (p, fd, size, cb) => {
      answer(cb, () => {
        ftruncateSync(fd, size);
        written.add(fd);
        changed(p);
        return Promise.resolve();
      });
    },
    unlink: (p, cb) => {
      answer(cb, async (reach) => {
        unlinkSync(reach(p));
        await view.forget(treePath(p));
        changed(p);
      });
    },
    rename: (src, dest, cb) => {
      answer(cb, async (reach) => {
        // A placeholder keeps its inode, so it moves as it is: no content is fetched for it.
        await view.move(treePath(src), treePath(dest), () => {
          renameSync(reach(src), reach(dest));
          return Promise.resolve();
        });
        changed(src);
        changed(dest);
      });
    },
    link: (src, dest, cb) => {
      answer(cb, async (reach) => {
        await view.link(treePath(src), treePath(dest), () => {
          linkSync(reach(src), reach(dest));
          return Promise.resolve();
        });
        changed(dest);
      });
    },
    symlink: (target, p, cb, caller) => {
      answer(cb, (reach) => {
        symlinkSync(Buffer.from(target, 'latin1'), reach(p));
        own(reach(p), caller);
        changed(p);
        return Promise.resolve();
      });
    },
    mkdir: (p, mode, cb, caller) => {
      answer(cb, (reach) => {
        mkdirSync(reach(p), mode & 0o7777);
        own(reach(p), caller);
        changed(p);
        return Promise.resolve();
      });
    },
    rmdir: (p, cb) => {
      answer(cb, (reach) => {
        rmdirSync(reach(p));
        changed(p);
        return Promise.resolve();
      });
    },
    chmod: (p, mode, cb) => {
      answer(cb, (reach) => {
        chmodSync(reach(p), mode & 0o7777);
        changed(p);
        return Promise.resolve();
      });
    },
    chown: (p, uid, gid, cb) => {
      answer(cb, async (reach) => {
        // -1 (as unsigned) leaves that id as it is.
        const u = uid === 0xffffffff ? -1 : uid;
        const g = gid === 0xffffffff ? -1 : gid;
        await view.owner?.(treePath(p), u, g);
        lchownSync(reach(p), u, g);
        changed(p);
      });
    },
    utimens: (p, atime, mtime, cb) => {
      answer(cb, (reach) => {
        const a = timeOf(reach(p), atime, 'atime');
        const m = timeOf(reach(p), mtime, 'mtime');
        lutimesSync(reach(p), a, m);
        changed(p);
        return Promise.resolve();
      });
    },
    mknod: (p, mode, rdev, cb, caller) => {
      answer(cb, async (reach) => {
        // Every type mknod(2) makes lands in the local view; a sync records specials and never
        // uploads them (MERGE.md rule T). FUSE leaves the privilege check for devices to the
        // file system: only root makes them (CAP_MKNOD is not passed on).
        const type = mode & C.S_IFMT;
        if ((type === C.S_IFCHR || type === C.S_IFBLK) && caller.uid !== 0) {
          throw errOf('EPERM');
        }
        if (native !== undefined) {
          native.mknod(reach(p), mode, rdev);
        } else if (type === C.S_IFIFO) {
          await run('mkfifo', ['-m', (mode & 0o7777).toString(8), reach(p).toString('latin1')]);
        } else {
          throw errOf('EPERM');
        }
        own(reach(p), caller);
        changed(p);
      });
    },
    ...xattrHandlers(ctx),
  };
}

const ENOENT = errno('ENOENT');
const ENOSYS = errno('ENOSYS');

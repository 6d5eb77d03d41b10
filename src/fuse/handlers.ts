// The FUSE handler table over a volume view (DESIGN decision 21; pnpm's habit: a factory kept
// apart from mounting, callable in tests without the kernel). A passthrough to the local view
// directory: its inodes are the mount's nodes, so hard links are one node, a rename moves a
// name, and an unlinked open file stays readable through its descriptor. The volume acts
// around the calls that need it (a placeholder fetched before an open, a flush after a
// change). Every handler answers exactly once, errors mapped in one place (errno.ts).
import { constants as C } from 'node:fs';
import * as fs from 'node:fs/promises';
import { close, fsync, ftruncate, open, read, write } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import type { Path } from '../merge/plan.js';
import { fromText } from '../tree/index.js';
import { TEMP_PREFIX } from '../sync/replica.js';
import { errnoOf } from './errno.js';
import { fuseStat, type FuseStat } from './stat.js';
import type { VolumeView } from './view.js';

type Cb<T = undefined> = (code: number, value?: T) => void;

/** The operations fuse-native calls (paths as it hands them: '/' + names). */
export interface Handlers {
  init(cb: Cb): void;
  access(path: string, mode: number, cb: Cb): void;
  statfs(path: string, cb: Cb<Record<string, number>>): void;
  getattr(path: string, cb: Cb<FuseStat>): void;
  fgetattr(path: string, fd: number, cb: Cb<FuseStat>): void;
  readdir(path: string, cb: Cb<string[]>): void;
  readlink(path: string, cb: Cb<string>): void;
  open(path: string, flags: number, cb: Cb<number>): void;
  create(path: string, mode: number, cb: Cb<number>): void;
  read(
    path: string,
    fd: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (n: number) => void,
  ): void;
  write(
    path: string,
    fd: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (n: number) => void,
  ): void;
  flush(path: string, fd: number, cb: Cb): void;
  /** fuse-native 2.2.6 passes datasync before the descriptor (its README says otherwise). */
  fsync(path: string, datasync: number, fd: number, cb: Cb): void;
  release(path: string, fd: number, cb: Cb): void;
  truncate(path: string, size: number, cb: Cb): void;
  ftruncate(path: string, fd: number, size: number, cb: Cb): void;
  unlink(path: string, cb: Cb): void;
  rename(src: string, dest: string, cb: Cb): void;
  link(src: string, dest: string, cb: Cb): void;
  symlink(target: string, path: string, cb: Cb): void;
  mkdir(path: string, mode: number, cb: Cb): void;
  rmdir(path: string, cb: Cb): void;
  chmod(path: string, mode: number, cb: Cb): void;
  chown(path: string, uid: number, gid: number, cb: Cb): void;
  utimens(path: string, atime: number, mtime: number, cb: Cb): void;
  mknod(path: string, mode: number, dev: number, cb: Cb): void;
  getxattr(path: string, name: string, position: number, cb: Cb<Buffer | null>): void;
  setxattr(
    path: string,
    name: string,
    value: Buffer,
    position: number,
    flags: number,
    cb: Cb,
  ): void;
  listxattr(path: string, cb: Cb<string[]>): void;
  removexattr(path: string, name: string, cb: Cb): void;
}

/** The attributes every path shows (DESIGN decision 8); they are the volume's, not the file's. */
export const STATE_XATTR = 'user.tether.state';
export const ID_XATTR = 'user.tether.id';
const OURS = [STATE_XATTR, ID_XATTR];

type Xattr = typeof import('@napi-rs/xattr');
let xattrBinding: Xattr | undefined;
const xattr = (): Xattr =>
  (xattrBinding ??= createRequire(import.meta.url)('@napi-rs/xattr') as Xattr);

const pRead = promisify(read);
const pWrite = promisify(write);
const pClose = promisify(close);
const pOpen = promisify(open);
/** O_ACCMODE (not in node's constants). */
const ACCMODE = 3;
const pFsync = promisify(fsync);
const pFtruncate = promisify(ftruncate);
const run = promisify(execFile);

/** The tree path of a FUSE path ('/a/b' → 'a/b', names as bytes). */
export const treePath = (p: string): Path => fromText(p.replace(/^\/+/, ''));

export function createHandlers(
  view: VolumeView,
  log: (line: string) => void = () => undefined,
): Handlers {
  const full = (p: string): string => view.root + (p === '/' ? '' : p);
  /** Call `cb` once with the outcome of `work` (its value, or the mapped errno). */
  const answer = <T>(cb: Cb<T>, work: () => Promise<T>): void => {
    work().then(
      (v) => {
        cb(0, v);
      },
      (err: unknown) => {
        cb(errnoOf(err, log));
      },
    );
  };
  const done = (p: string): void => {
    view.changed(treePath(p));
  };
  /** Descriptors written through, so their release is a change. */
  const written = new Set<number>();

  return {
    init: (cb) => {
      cb(0);
    },
    access: (p, mode, cb) => {
      answer(cb, async () => {
        await fs.access(full(p), mode);
        return undefined;
      });
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
          fsid: 0,
          flag: 0,
          namemax: 255,
        };
      });
    },
    getattr: (p, cb) => {
      answer(cb, async () => fuseStat(await fs.lstat(full(p), { bigint: true })));
    },
    fgetattr: (p, _fd, cb) => {
      answer(cb, async () => fuseStat(await fs.lstat(full(p), { bigint: true })));
    },
    readdir: (p, cb) => {
      answer(cb, async () => {
        const names = await fs.readdir(full(p));
        // The engine's temporary files are never part of the volume.
        return names.filter((n) => !n.startsWith(TEMP_PREFIX));
      });
    },
    readlink: (p, cb) => {
      answer(cb, () => fs.readlink(full(p)));
    },
    open: (p, flags, cb) => {
      answer(cb, async () => {
        const path = treePath(p);
        if ((flags & C.O_TRUNC) !== 0 && (flags & ACCMODE) !== C.O_RDONLY) {
          await view.forget(path); // its old content is not wanted
        } else {
          await view.present(path, 'open');
        }
        // The kernel gives each write its offset, O_APPEND included.
        const fd = await pOpen(full(p), flags & ~C.O_APPEND);
        if ((flags & C.O_TRUNC) !== 0) {
          written.add(fd);
          done(p);
        }
        return fd;
      });
    },
    create: (p, mode, cb) => {
      answer(cb, async () => {
        await view.forget(treePath(p));
        const fd = await pOpen(full(p), C.O_CREAT | C.O_RDWR, mode & 0o7777);
        written.add(fd);
        done(p);
        return fd;
      });
    },
    read: (_p, fd, buf, len, pos, cb) => {
      pRead(fd, buf, 0, len, pos).then(
        (r) => {
          cb(r.bytesRead);
        },
        (err: unknown) => {
          cb(errnoOf(err, log));
        },
      );
    },
    write: (_p, fd, buf, len, pos, cb) => {
      written.add(fd);
      pWrite(fd, buf, 0, len, pos).then(
        (r) => {
          cb(r.bytesWritten);
        },
        (err: unknown) => {
          cb(errnoOf(err, log));
        },
      );
    },
    flush: (_p, _fd, cb) => {
      cb(0);
    },
    fsync: (p, _datasync, fd, cb) => {
      answer(cb, async () => {
        await pFsync(fd);
        if (written.has(fd)) done(p);
        await view.flush();
        return undefined;
      });
    },
    release: (p, fd, cb) => {
      answer(cb, async () => {
        await pClose(fd);
        if (written.delete(fd)) done(p);
        return undefined;
      });
    },
    truncate: (p, size, cb) => {
      answer(cb, async () => {
        if (size === 0) await view.forget(treePath(p));
        else await view.present(treePath(p), 'truncate');
        await fs.truncate(full(p), size);
        done(p);
        return undefined;
      });
    },
    ftruncate: (p, fd, size, cb) => {
      answer(cb, async () => {
        await pFtruncate(fd, size);
        written.add(fd);
        done(p);
        return undefined;
      });
    },
    unlink: (p, cb) => {
      answer(cb, async () => {
        await fs.unlink(full(p));
        await view.forget(treePath(p));
        done(p);
        return undefined;
      });
    },
    rename: (src, dest, cb) => {
      answer(cb, async () => {
        // A moved placeholder would be a new name for content that is not here.
        await view.presentUnder(treePath(src), 'rename');
        await fs.rename(full(src), full(dest));
        await view.forget(treePath(dest));
        done(src);
        done(dest);
        return undefined;
      });
    },
    link: (src, dest, cb) => {
      answer(cb, async () => {
        await view.present(treePath(src), 'link');
        await fs.link(full(src), full(dest));
        done(dest);
        return undefined;
      });
    },
    symlink: (target, p, cb) => {
      answer(cb, async () => {
        await fs.symlink(target, full(p));
        done(p);
        return undefined;
      });
    },
    mkdir: (p, mode, cb) => {
      answer(cb, async () => {
        await fs.mkdir(full(p), mode & 0o7777);
        done(p);
        return undefined;
      });
    },
    rmdir: (p, cb) => {
      answer(cb, async () => {
        await fs.rmdir(full(p));
        done(p);
        return undefined;
      });
    },
    chmod: (p, mode, cb) => {
      answer(cb, async () => {
        await fs.chmod(full(p), mode & 0o7777);
        done(p);
        return undefined;
      });
    },
    chown: (p, uid, gid, cb) => {
      answer(cb, async () => {
        await fs.lchown(full(p), uid, gid);
        done(p);
        return undefined;
      });
    },
    utimens: (p, atime, mtime, cb) => {
      answer(cb, async () => {
        await fs.lutimes(full(p), atime / 1000, mtime / 1000);
        done(p);
        return undefined;
      });
    },
    mknod: (p, mode, _dev, cb) => {
      answer(cb, async () => {
        // Only fifos: devices and sockets are recorded, never made (MERGE.md rule T).
        if ((mode & C.S_IFMT) !== C.S_IFIFO)
          throw Object.assign(new Error('mknod'), { code: 'EPERM' });
        await run('mkfifo', ['-m', (mode & 0o7777).toString(8), full(p)]);
        done(p);
        return undefined;
      });
    },
    getxattr: (p, name, _position, cb) => {
      answer(cb, async () => {
        if (OURS.includes(name)) {
          const s = await view.stateOf(treePath(p));
          const v = name === STATE_XATTR ? s.state : s.id;
          if (v === undefined) throw Object.assign(new Error('no id'), { code: 'ENODATA' });
          return Buffer.from(v);
        }
        const v = await xattr().getAttribute(full(p), name);
        if (v === null) throw Object.assign(new Error('no attribute'), { code: 'ENODATA' });
        return v;
      });
    },
    setxattr: (p, name, value, _position, _flags, cb) => {
      answer(cb, async () => {
        if (OURS.includes(name)) throw Object.assign(new Error('read-only'), { code: 'EPERM' });
        await xattr().setAttribute(full(p), name, Buffer.from(value));
        done(p);
        return undefined;
      });
    },
    listxattr: (p, cb) => {
      answer(cb, async () => {
        const have = await xattr()
          .listAttributes(full(p))
          .catch(() => []);
        const s = await view.stateOf(treePath(p));
        const ours = s.id === undefined ? [STATE_XATTR] : OURS;
        return [...ours, ...have.filter((n) => !OURS.includes(n))];
      });
    },
    removexattr: (p, name, cb) => {
      answer(cb, async () => {
        if (OURS.includes(name)) throw Object.assign(new Error('read-only'), { code: 'EPERM' });
        await xattr().removeAttribute(full(p), name);
        done(p);
        return undefined;
      });
    },
  };
}

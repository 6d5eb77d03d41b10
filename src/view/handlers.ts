// The FUSE handler table of a read-only view (a factory apart from mounting, as the volume's
// is): every entry, listing and byte comes from a ViewSource; every write answers EROFS.
// Every handler answers exactly once; errors are mapped in one place (fuse/errno.ts), and a
// read of bytes this side never had answers ENODATA and is noted for `tether why`.
import { constants as C } from 'node:fs';
import { O_ACCMODE, type Operations } from '../fuse/operations.js';
import { errno, errnoOf } from '../fuse/errno.js';
import { treePath } from '../fuse/handler-context.js';
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { NoData, openContent, type OpenContent } from './content.js';
import { statOf, type ViewNode, type ViewSource } from './node.js';

export const STATE_XATTR = 'user.tether.state';
export const ID_XATTR = 'user.tether.id';

export interface ViewHandlerOptions {
  /** Bytes this side does not have were asked for at `path` (by `op`). */
  readonly noData?: (path: Path, op: string, why: string) => void;
  readonly log?: (line: string) => void;
}

const fail = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/** Every operation that would change something: answered EROFS. */
const WRITES = [
  'create',
  'write',
  'truncate',
  'ftruncate',
  'unlink',
  'rename',
  'link',
  'symlink',
  'mkdir',
  'rmdir',
  'chmod',
  'chown',
  'utimens',
  'mknod',
  'setxattr',
  'removexattr',
] as const;

export function createViewHandlers(
  store: Store,
  source: () => ViewSource,
  o: ViewHandlerOptions = {},
): Operations {
  const open = new Map<number, OpenContent>();
  // Numbers of their own, apart from the descriptors of a volume whose handlers share the mount.
  let nextFd = 1 << 24;
  const log = o.log ?? (() => undefined);
  const answer = <T>(cb: (err: number, value?: T) => void, work: () => Promise<T>): void => {
    work().then(
      (v) => {
        cb(0, v);
      },
      (err: unknown) => {
        cb(errnoOf(err, log));
      },
    );
  };
  const node = async (p: string): Promise<ViewNode> => {
    const n = await source().lookup(treePath(p));
    if (n === undefined) throw fail('ENOENT');
    return n;
  };
  const xattrOf = (n: ViewNode, name: string): Buffer | undefined => {
    if (name === STATE_XATTR && n.content !== undefined) {
      return Buffer.from(n.content.from === 'none' ? 'remote-only' : 'cached');
    }
    if (name === ID_XATTR) return n.entry.id === undefined ? undefined : Buffer.from(n.entry.id);
    return n.entry.xattrs?.find(([k]) => k === name)?.[1];
  };

  const ops: Operations = {
    init: (cb) => {
      cb(0);
    },
    statfs: (_p, cb) => {
      answer(cb, () =>
        Promise.resolve({
          bsize: 4096,
          frsize: 4096,
          blocks: 0,
          bfree: 0,
          bavail: 0,
          files: 0,
          ffree: 0,
          favail: 0,
          namemax: 255,
        }),
      );
    },
    access: (p, mode, cb) => {
      answer(cb, async () => {
        await node(p);
        if ((mode & C.W_OK) !== 0) throw fail('EROFS');
      });
    },
    getattr: (p, cb) => {
      answer(cb, async () => statOf(await node(p), p));
    },
    fgetattr: (p, _fd, cb) => {
      answer(cb, async () => statOf(await node(p ?? '/'), p ?? '/'));
    },
    readdir: (p, cb) => {
      answer(cb, async () => {
        const names = await source().list(treePath(p));
        if (names === undefined)
          throw fail((await source().lookup(treePath(p))) ? 'ENOTDIR' : 'ENOENT');
        return [DOT, DOTDOT, ...names.map((n) => Buffer.from(n, 'latin1'))];
      });
    },
    readlink: (p, cb) => {
      answer(cb, async () => {
        const n = await node(p);
        if (n.entry.kind !== 'symlink' || n.entry.target === undefined) throw fail('EINVAL');
        return Buffer.from(n.entry.target, 'latin1');
      });
    },
    open: (p, flags, cb) => {
      answer(cb, async () => {
        if ((flags & O_ACCMODE) !== C.O_RDONLY || (flags & C.O_TRUNC) !== 0) throw fail('EROFS');
        const n = await node(p);
        if (n.content === undefined) throw fail(n.entry.kind === 'dir' ? 'EISDIR' : 'EACCES');
        let c: OpenContent;
        try {
          c = openContent(store, n.content, n.entry.size);
        } catch (err) {
          if (err instanceof NoData) o.noData?.(treePath(p), 'open', err.why);
          throw err;
        }
        const fd = nextFd++;
        open.set(fd, c);
        return fd;
      });
    },
    read: (_p, fd, buf, len, pos, cb) => {
      const c = open.get(fd);
      if (c === undefined) {
        cb(errno('EBADF'));
        return;
      }
      c.read(buf, len, pos).then(cb, (err: unknown) => {
        cb(errnoOf(err, log));
      });
    },
    release: (_p, fd, cb) => {
      answer(cb, async () => {
        const c = open.get(fd);
        open.delete(fd);
        await c?.close();
      });
    },
    flush: (_p, _fd, cb) => {
      cb(0);
    },
    fsync: (_p, _d, _fd, cb) => {
      cb(0);
    },
    getxattr: (p, name, _position, cb) => {
      answer(cb, async () => {
        const v = xattrOf(await node(p), name);
        if (v === undefined) throw fail('ENODATA');
        return v;
      });
    },
    listxattr: (p, cb) => {
      answer(cb, async () => {
        const n = await node(p);
        const ours = [STATE_XATTR, ID_XATTR].filter((k) => xattrOf(n, k) !== undefined);
        return [...ours, ...(n.entry.xattrs ?? []).map(([k]) => k)];
      });
    },
  };
  const readOnly = (...args: unknown[]): void => {
    const cb = args.findLast((a) => typeof a === 'function') as (err: number) => void;
    cb(errno('EROFS'));
  };
  for (const w of WRITES) (ops as Record<string, unknown>)[w] = readOnly;
  return ops;
}

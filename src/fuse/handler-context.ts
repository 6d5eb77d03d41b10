// What every FUSE handler of a volume view shares (handlers.ts, xattr-handlers.ts): the view's
// paths as the kernel reaches them, the one place a handler's outcome is answered (errors
// mapped by errno.ts), and the marks of a change.
import { closeSync, lchownSync } from 'node:fs';
import type { Path } from '../merge/plan.js';
import type { Caller } from './operations.js';
import { errnoOf } from './errno.js';
import { LIMIT, reachable } from './long-path.js';
import type { VolumeView } from './view.js';

/** The tree path of a FUSE path ('/a/b' → 'a/b'; both are byte strings). */
export const treePath = (p: string): Path => p.replace(/^\/+/, '');

export const errOf = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(code), { code });

/** Whether this daemon may give files to their creators (as root, it creates them). */
const AS_ROOT = process.getuid?.() === 0;

export interface HandlerContext {
  readonly view: VolumeView;
  readonly log: (line: string) => void;
  /** The local path of a FUSE path (which may be longer than PATH_MAX: see answer). */
  readonly full: (p: string) => Buffer;
  /**
   * Answer `cb` once with the outcome of `work`: 0 (and its value) or the mapped errno. `work`
   * reaches local paths through `reach`, which opens the leading directories of a path longer
   * than PATH_MAX (a path in the mount can be; node:fs has no *at() calls); they are closed
   * once `work` is done.
   */
  readonly answer: <T>(
    cb: (err: number, value?: T) => void,
    work: (reach: (p: string) => Buffer) => Promise<T>,
  ) => void;
  /** read and write answer a byte count or a negative errno. */
  readonly count: (cb: (n: number) => void, work: () => Promise<number>) => void;
  /** The path changed through the mount. */
  readonly changed: (p: string | null) => void;
  /** A new node belongs to its creator (the kernel checked that they may make it). */
  readonly own: (path: Buffer, caller: Caller | undefined) => void;
}

export function handlerContext(view: VolumeView, log: (line: string) => void): HandlerContext {
  const rootBuf = Buffer.from(view.root);
  const full = (p: string): Buffer =>
    p === '/' ? rootBuf : Buffer.concat([rootBuf, Buffer.from(p, 'latin1')]);
  return {
    view,
    log,
    full,
    answer: (cb, work) => {
      const fds: number[] = [];
      const reach = (p: string): Buffer => {
        const whole = full(p);
        return whole.length < LIMIT ? whole : reachable(whole, fds);
      };
      (async () => work(reach))()
        .finally(() => {
          for (const fd of fds.splice(0)) closeSync(fd);
        })
        .then(
          (v) => {
            cb(0, v);
          },
          (err: unknown) => {
            cb(errnoOf(err, log));
          },
        );
    },
    count: (cb, work) => {
      work().then(cb, (err: unknown) => {
        cb(errnoOf(err, log));
      });
    },
    changed: (p) => {
      view.changed(p === null ? '' : treePath(p));
    },
    own: (path, caller) => {
      if (AS_ROOT && caller !== undefined && (caller.uid !== 0 || caller.gid !== 0)) {
        lchownSync(path, caller.uid, caller.gid);
      }
    },
  };
}

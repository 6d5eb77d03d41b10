// The extended-attribute handlers of a volume view: the file's own attributes, by byte path,
// through the native helper (without it, none are offered), beside the two every path shows
// (DESIGN decision 8), which are the volume's, not the file's, and cannot be set.
import type { Operations } from './operations.js';
import { native } from '../scan/native.js';
import { errno, errnoOf } from './errno.js';
import { LIMIT } from './long-path.js';
import { errOf, treePath, type HandlerContext } from './handler-context.js';

/** The attributes every path shows (DESIGN decision 8); they are the volume's, not the file's. */
export const STATE_XATTR = 'user.tether.state';
export const ID_XATTR = 'user.tether.id';
const OURS = [STATE_XATTR, ID_XATTR];
const ENODATA = errno('ENODATA');
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** Extended attributes by byte path (the native helper; without it, none are offered). */
function xattrs(): NonNullable<typeof native> {
  if (native === undefined) throw errOf('ENOTSUP');
  return native;
}

export function xattrHandlers({
  view,
  log,
  full,
  answer,
  changed,
}: HandlerContext): Pick<Operations, 'getxattr' | 'setxattr' | 'listxattr' | 'removexattr'> {
  return {
    getxattr: (p, name, _position, cb) => {
      // The kernel asks for security.capability before every write: "none" is answered at
      // once, without an exception.
      const whole = full(p);
      if (!OURS.includes(name) && native !== undefined && whole.length < LIMIT) {
        let v: Buffer | null;
        try {
          v = native.xattrGet(whole, Buffer.from(name, 'latin1'));
        } catch (err) {
          cb(errnoOf(err, log));
          return;
        }
        if (v === null) cb(ENODATA);
        else cb(0, v);
        return;
      }
      answer(cb, async (reach) => {
        if (OURS.includes(name)) {
          const s = await view.stateOf(treePath(p));
          const v = name === STATE_XATTR ? s.state : s.id;
          if (v === undefined) throw errOf('ENODATA');
          return Buffer.from(v);
        }
        const v = xattrs().xattrGet(reach(p), Buffer.from(name, 'latin1'));
        if (v === null) throw errOf('ENODATA');
        return v;
      });
    },
    setxattr: (p, name, value, _position, flags, cb) => {
      answer(cb, async (reach) => {
        if (OURS.includes(name)) throw errOf('EPERM');
        const n = Buffer.from(name, 'latin1');
        // XATTR_CREATE / XATTR_REPLACE: the helper has no flags, so they are checked first
        // (the daemon is the view's one writer).
        if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
          const exists = xattrs().xattrGet(reach(p), n) !== null;
          if (exists && flags & XATTR_CREATE) throw errOf('EEXIST');
          if (!exists && flags & XATTR_REPLACE) throw errOf('ENODATA');
        }
        xattrs().xattrSet(reach(p), n, Buffer.from(value));
        changed(p);
        return Promise.resolve();
      });
    },
    listxattr: (p, cb) => {
      answer(cb, async (reach) => {
        const have = xattrs()
          .xattrNames(reach(p))
          .map((n) => n.toString('latin1'));
        const s = await view.stateOf(treePath(p));
        const ours = s.id === undefined ? [STATE_XATTR] : OURS;
        return [...ours, ...have.filter((n) => !OURS.includes(n))];
      });
    },
    removexattr: (p, name, cb) => {
      answer(cb, async (reach) => {
        if (OURS.includes(name)) throw errOf('EPERM');
        const n = Buffer.from(name, 'latin1');
        // The helper ignores a missing name (the engine wants that); removexattr(2) does not.
        if (xattrs().xattrGet(reach(p), n) === null) throw errOf('ENODATA');
        xattrs().xattrRemove(reach(p), n);
        changed(p);
        return Promise.resolve();
      });
    },
  };
}

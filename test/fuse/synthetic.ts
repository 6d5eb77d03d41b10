// A filesystem answered from memory, for what a backing ext4 directory cannot show: an inode
// number above 2^32 and nanosecond times before 1970 and far in the future.
import { HANDLER_NAMES } from '../../src/fuse/lowlevel-context.js';
import type { Operations, Stat } from '../../src/fuse/operations.js';

export const BIG_INO = (1n << 40n) + 5n;
export const OLD_MTIME_NS = -1_500_000_000_123_456_789n; // 1922, negative seconds
export const NEW_MTIME_NS = 4_200_000_000_987_654_321n; // 2103, past 32-bit seconds

const dir: Stat = { mode: 0o40755, uid: 0, gid: 0, size: 0, ino: 1n, nlink: 2 };
const files = new Map<string, Stat>([
  ['/big-inode', { mode: 0o100644, uid: 0, gid: 0, size: 0, ino: BIG_INO }],
  ['/old', { mode: 0o100644, uid: 0, gid: 0, size: 0, ino: 3n, mtimeNs: OLD_MTIME_NS }],
  ['/new', { mode: 0o100644, uid: 0, gid: 0, size: 0, ino: 4n, mtimeNs: NEW_MTIME_NS }],
]);

/** Every other handler answers ENOSYS. */
const ENOSYS = -38;
const unimplemented = (...args: unknown[]): void => {
  (args.findLast((a) => typeof a === 'function') as (err: number) => void)(ENOSYS);
};

export function synthetic(): Operations {
  return {
    ...Object.fromEntries(HANDLER_NAMES.map((k) => [k, unimplemented])),
    getattr(p, cb) {
      const st = p === '/' ? dir : files.get(p);
      if (st === undefined) cb(-2);
      else cb(0, st);
    },
    readdir(_p, cb) {
      cb(0, ['.', '..', ...[...files.keys()].map((k) => k.slice(1))]);
    },
  };
}

// Reaching a path longer than PATH_MAX: node:fs has no *at() calls, so the leading directories
// are opened and the rest is reached through /proc/PID/fd/N/rest, as often as needed. The
// process's own pid, not "self": a child it starts (mkfifo) reaches the same path.
import { closeSync, constants, openSync } from 'node:fs';

/** Paths at least this long are split (PATH_MAX is 4096 with its NUL). */
export const LIMIT = 4000;

/**
 * A path the kernel accepts for `full`; directories opened on the way are pushed on fds for
 * the caller to close once done with the returned path.
 */
export function reachable(full: Buffer, fds: number[]): Buffer {
  let path = full;
  while (path.length >= LIMIT) {
    // Split at a slash far enough in that the rest shrinks; a name is at most 255 bytes.
    const cut = path.lastIndexOf(0x2f, LIMIT - 256);
    if (cut <= 0) break;
    let fd: number;
    try {
      fd = openSync(path.subarray(0, cut), constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      for (const f of fds.splice(0)) closeSync(f);
      throw err;
    }
    fds.push(fd);
    path = Buffer.concat([Buffer.from(`/proc/${process.pid}/fd/${fd}`), path.subarray(cut)]);
  }
  return path;
}

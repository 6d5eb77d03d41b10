// Where a view's daemon keeps its things: a directory of its own under the store it reads,
//   S/views/<id>/control.sock   its control socket (the volume's protocol: volume/control.ts)
//   S/views/<id>/daemon.pid     its pid
//   S/views/<id>/daemon.log     what it said
// with <id> named after the mount point, and fsname=tetherview:S/views/<id>, so `tether
// status`, `why` and `unmount` find it from /proc/self/mountinfo alone.
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

export const VIEW_FSNAME_PREFIX = 'tetherview:';

export function viewDirOf(storeDir: string, mountpoint: string): string {
  const id = createHash('sha256').update(resolve(mountpoint)).digest('hex').slice(0, 12);
  return join(storeDir, 'views', id);
}

/** The store a view directory belongs to. */
export const storeOfViewDir = (viewDir: string): string => dirname(dirname(viewDir));

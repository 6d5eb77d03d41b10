// Where a volume keeps things inside its store directory, and where a store lives by default.
//   S/local/         the local view: base ⊕ overlay as a real directory (placeholders for
//                    files never fetched), the tree the mount serves and the engine's replica A
//   S/attic/         where an older tether kept files unlinked while open (removed at mount)
//   S/control.sock   the daemon's control socket (JSON lines)
//   S/daemon.pid     the pid of the daemon that owns the store's write side
//   S/daemon.log     what the daemon said (its start-up failures, its syncs' errors)
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { daemonPidFile } from '../store/store-files.js';

export const localDirOf = (storeDir: string): string => join(storeDir, 'local');
export const atticOf = (storeDir: string): string => join(storeDir, 'attic');
export const socketOf = (storeDir: string): string => join(storeDir, 'control.sock');
export const pidFileOf = daemonPidFile;
export const logFileOf = (storeDir: string): string => join(storeDir, 'daemon.log');

/** The fsname a mount carries, so the store is found from /proc/self/mountinfo. */
export const FSNAME_PREFIX = 'tether:';

/**
 * The default store of a remote: one per volume under $XDG_DATA_HOME/tether/volumes, named
 * after the remote's last component (so a user can find it) and a hash of its whole path (so
 * two remotes of the same name do not share one).
 */
export function defaultStoreFor(remote: string): string {
  const abs = resolve(remote);
  const data = process.env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share');
  const h = createHash('sha256').update(abs).digest('hex').slice(0, 8);
  const name = (basename(abs) || 'root').replace(/[^A-Za-z0-9._-]/g, '_');
  return join(data, 'tether', 'volumes', `${name}-${h}`);
}

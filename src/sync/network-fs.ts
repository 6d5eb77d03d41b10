// Whether a directory may hang its caller: any file system but a local disk's may (a network
// share whose server stops answering, a FUSE file system whose daemon is stuck), and a call
// blocked there cannot be interrupted (DESIGN decision 2). sync-dirs reaches such a server
// directory only through the remote agent, with deadlines; a directory on a local disk is
// synced in the process itself, at full speed.
//
// Judged from /proc/self/mountinfo, which answers without touching the directory (a statfs of
// a hung share would hang too): the mount holding the path, by its longest mount point. A
// symbolic link on the way is not followed, so a link into a share from a local disk counts as
// local: give the share's own path. Anything not known to be a local disk counts as one that
// may hang.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mountHolding, parseMounts } from './mounts.js';

/** Local disk and memory file systems: the kernel answers them without any other party. */
const LOCAL: ReadonlySet<string> = new Set([
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'bcachefs',
  'f2fs',
  'jfs',
  'reiserfs',
  'zfs',
  'tmpfs',
  'ramfs',
  'overlay',
  'vfat',
  'exfat',
  'ntfs3',
  'hfsplus',
]);

/** The type of the file system holding `path` (undefined when mountinfo cannot be read). */
export function fileSystemOf(path: string, mountinfo?: string): string | undefined {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  return mountHolding(resolve(path), parseMounts(text))?.fstype;
}

/** True unless `path` is known to be on a local disk (see above). */
export function mayHang(path: string, mountinfo?: string): boolean {
  const type = fileSystemOf(path, mountinfo);
  return type === undefined || !LOCAL.has(type);
}

// The filesystems bench/fuse-peers.ts measures, each with its own working directory under the
// run's: a peer mounts, unmounts, and resets (its backing directories removed and made again
// while it is unmounted), so every round of a run starts each peer from the same empty state.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { must, TETHER, timed } from './run.js';

const LIMIT = { timeout: 600_000 };

export interface Peer {
  readonly name: string;
  /** Where the workloads run (a mount point, or a plain directory). */
  readonly dir: string;
  mount(): void;
  unmount(): void;
  /** Unmounted: empties the peer's directories, back to the state before its first mount. */
  reset(): void;
}

export const has = (cmd: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

const unmountFuse = (mnt: string): void => {
  if (timed(['fusermount', '-u', mnt], LIMIT).status !== 0) timed(['fusermount', '-uz', mnt]);
};

let trashed = 0;

/**
 * Moves `path` into the run's trash (`trash/` beside the peers' directories), removed with the
 * run when it ends. Nothing is deleted while the run measures: ext4 without a journal (this
 * machine's disk) checks, for every inode it hands out, whether the free inode it found was freed
 * in the last 60 s (360 s while its inode table block is dirty) and passes over it if so, so a
 * create after 100,000 deletions in the same block group scans them all: native creates of 10,000
 * files measured 0.81 s in a fresh tree and 1.98 s right after removing 10,000 files.
 */
export function trash(path: string): void {
  if (!existsSync(path)) return;
  const bin = join(dirname(path), 'trash');
  mkdirSync(bin, { recursive: true });
  renameSync(path, join(bin, String(++trashed)));
}

/** Makes `names` under `base` (a fresh base: what was there is moved to the trash first). */
function fresh(base: string, names: readonly string[]): string[] {
  trash(base);
  return names.map((d) => {
    const p = join(base, d);
    mkdirSync(p, { recursive: true });
    return p;
  });
}

export function native(work: string): Peer {
  const base = join(work, 'native');
  const dir = join(base, 'dir');
  const reset = (): void => void fresh(base, ['dir']);
  reset();
  return { name: 'native', dir, mount: () => undefined, unmount: () => undefined, reset };
}

export function overlay(work: string): Peer {
  const base = join(work, 'ovl');
  const reset = (): [string, string, string, string] =>
    fresh(base, ['lower', 'upper', 'work', 'mnt']) as [string, string, string, string];
  const [lower, upper, wk, dir] = reset();
  return {
    name: 'fuse-overlayfs',
    dir,
    mount: () => {
      must(['fuse-overlayfs', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${wk}`, dir]);
    },
    unmount: () => {
      unmountFuse(dir);
    },
    reset,
  };
}

/**
 * Its fsync is answered without syncing anything (the daemon makes no fsync, fdatasync,
 * sync_file_range or syncfs call, during the write, the fsync or the upload after it), so its
 * "write + fsync" is a write into the page cache, not comparable with the others'.
 */
export function rclone(work: string): Peer {
  const base = join(work, 'rclone');
  const reset = (): [string, string, string] =>
    fresh(base, ['src', 'cache', 'mnt']) as [string, string, string];
  const [src, cache, dir] = reset();
  return {
    name: 'rclone (vfs full)',
    dir,
    mount: () => {
      const conf = join(base, 'rclone.conf');
      writeFileSync(conf, '');
      const opts = ['--vfs-cache-mode', 'full', '--cache-dir', cache, '--config', conf];
      must(['rclone', 'mount', src, dir, ...opts, '--daemon'], LIMIT);
    },
    unmount: () => {
      unmountFuse(dir);
    },
    reset,
  };
}

/** Tether with the volume offline from its first mount on (taken offline again after a reset). */
export function tether(work: string, launcher = TETHER, label = ''): Peer {
  const base = join(work, `tether${label === '' ? '' : '-before'}`);
  const store = join(base, 'store');
  const env = { ...process.env, TETHER_PULL_MS: '3600000' };
  let first = true;
  const reset = (): [string, string] => {
    const made = fresh(base, ['remote', 'mnt']) as [string, string];
    writeFileSync(join(made[0], 'seed'), 'seed\n');
    first = true;
    return made;
  };
  const [remote, dir] = reset();
  return {
    name: `tether${label}`,
    dir,
    mount: () => {
      const args = ['mount', remote, dir, '--store', store];
      must([process.execPath, launcher, ...args], { env, ...LIMIT });
      if (first) must([process.execPath, launcher, 'offline', dir], LIMIT);
      first = false;
    },
    unmount: () => {
      if (timed([process.execPath, launcher, 'unmount', dir], LIMIT).status !== 0) {
        unmountFuse(dir);
      }
    },
    reset,
  };
}

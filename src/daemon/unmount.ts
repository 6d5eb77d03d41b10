// Stopping a volume's or a view's daemon from the command line, and what that needs: the mount
// table, the daemon's socket and pid file, and fusermount for a mount whose daemon is gone. Kept
// apart from starting daemons (volume-start.ts, view-start.ts), which open stores and load the
// native addon: this much runs in the thin command line (cli/thin.ts) too.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TetherError } from '../errors.js';
import { processAlive } from '../store/store-files.js';
import { mountAt } from '../sync/mounts.js';
import { isViewMount } from '../view/find.js';
import { VIEW_FSNAME_PREFIX } from '../view/layout.js';
import { request } from '../volume/control.js';
import { isTetherMount } from '../volume/find.js';
import { FSNAME_PREFIX, pidFileOf } from '../volume/layout.js';

/** The fusermount program (fuse3 names it fusermount3, with fusermount as a link). */
export function fusermount(): string | undefined {
  const path = process.env['PATH'] ?? '/usr/bin:/bin';
  return onPath('fusermount', path) ?? onPath('fusermount3', path);
}

/** The path of `name` on PATH, if it is there and executable. */
export function onPath(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Detach a mount whose daemon is gone ("Transport endpoint is not connected"). */
export function lazyUnmount(mountpoint: string): void {
  const fm = fusermount();
  if (fm === undefined)
    throw new TetherError('EUSAGE', 'fusermount is not installed (Debian: apt-get install fuse3)');
  execFileSync(fm, ['-uz', mountpoint], { stdio: 'ignore' });
}

/** A daemon's log, or nothing where it has none yet. */
export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Stop a volume's daemon (it flushes first) or clean up after a dead one. */
export async function unmountVolume(
  mountpoint: string,
  log: (line: string) => void,
): Promise<void> {
  const there = mountAt(mountpoint);
  if (there === undefined) {
    throw new TetherError('EUSAGE', `nothing is mounted at ${mountpoint}`, { mountpoint });
  }
  if (!isTetherMount(there)) {
    throw new TetherError(
      'EUSAGE',
      `${mountpoint} is not a tether mount (${there.fstype} ${there.source}): use umount or fusermount -u for it`,
      { mountpoint },
    );
  }
  const storeDir = there.source.slice(FSNAME_PREFIX.length);
  try {
    await request(storeDir, { op: 'unmount' }, 10_000, mountpoint);
    // The daemon flushes (online), unmounts and exits; a flush may take a while.
    if (await daemonFinished(mountpoint, there.source, pidFileOf(storeDir), 5 * 60_000)) return;
    log('the daemon did not finish unmounting in time; detaching the mount');
  } catch (err) {
    log(`${(err as Error).message.split(':')[0] ?? 'no daemon'}; detaching the mount`);
  }
  if (mountAt(mountpoint)?.source === there.source) lazyUnmount(mountpoint);
}

/** Stop a view's daemon, or detach a view whose daemon is gone. */
export async function unmountView(mountpoint: string, log: (line: string) => void): Promise<void> {
  const there = mountAt(mountpoint);
  if (there === undefined || !isViewMount(there)) {
    throw new TetherError('EUSAGE', `no tether view is mounted at ${mountpoint}`, { mountpoint });
  }
  const viewDir = there.source.slice(VIEW_FSNAME_PREFIX.length);
  try {
    await request(viewDir, { op: 'unmount' }, 10_000, mountpoint);
    // Returns once the daemon is gone too: a view leaves nothing running behind it.
    if (await daemonFinished(mountpoint, there.source, pidFileOf(viewDir), 30_000)) return;
    log('the view daemon did not finish unmounting in time; detaching the mount');
  } catch (err) {
    log(`${(err as Error).message.split(':')[0] ?? 'no daemon'}; detaching the mount`);
  }
  if (mountAt(mountpoint)?.source === there.source) lazyUnmount(mountpoint);
}

/**
 * Whether the daemon that served `source` at `mountpoint` unmounted it and finished within `ms`:
 * its pid file (removed once its store is closed and its log written) no longer names a live
 * process. A command that unmounts returns once the store is free.
 */
export async function daemonFinished(
  mountpoint: string,
  source: string,
  pidFile: string,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const now = mountAt(mountpoint);
    if (now === undefined || now.source !== source) {
      const pid = Number(readLog(pidFile));
      if (!(pid > 0 && processAlive(pid))) return true;
    }
    await sleep(50);
  }
  return false;
}

// Starting a volume's daemon from the command line: every bad input is refused before
// anything is made (a clear message: what, where, what to do), the daemon is started detached
// with its output in S/daemon.log, and the command returns once the mount answers. Stopping
// one is in unmount.ts.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TetherError } from '../errors.js';
import { whyNoBinding } from '../fuse/mount.js';
import { daemonAnswers } from '../volume/control.js';
import { mountAt } from '../sync/mounts.js';
import { isTetherMount } from '../volume/find.js';
import { defaultStoreFor, FSNAME_PREFIX, logFileOf } from '../volume/layout.js';
import { deadlinesFromEnv } from '../agent/deadlines.js';
import { fusermount, lazyUnmount, readLog } from './unmount.js';

export interface MountRequest {
  readonly remote: string;
  readonly mountpoint: string;
  readonly store?: string;
  readonly foreground: boolean;
  readonly allowOther: boolean;
  /** Cache limits (bytes) to keep for the volume; none given: the stored ones stay. */
  readonly cacheSize?: number;
  readonly pinCacheSize?: number;
  /** The tether launcher the daemon is started with. */
  readonly launcher: string;
  readonly log: (line: string) => void;
}

export function checkFuse(): void {
  if (!existsSync('/dev/fuse')) {
    throw new TetherError(
      'EUSAGE',
      'there is no /dev/fuse on this machine: load the fuse module ("modprobe fuse"), or in a container give it the device (--device /dev/fuse)',
    );
  }
  if (fusermount() === undefined) {
    throw new TetherError(
      'EUSAGE',
      'fusermount is not installed: install it (Debian: apt-get install fuse3)',
    );
  }
  const why = whyNoBinding();
  if (why !== undefined) throw new TetherError('EUSAGE', why);
}

/**
 * Whether the remote's root is a directory, asked of a child with a deadline: a call on a hung
 * network share cannot be interrupted (the caller would sit in the kernel until the server
 * answers), so a child that misses it is killed and left behind, never waited for.
 */
function remoteAnswers(remote: string, deadlineMs: number): Promise<'dir' | 'other' | 'silent'> {
  return new Promise((resolve) => {
    const child = spawn('test', ['-d', remote], { stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.unref();
      resolve('silent');
    }, deadlineMs);
    child.on('error', () => {
      clearTimeout(timer);
      resolve('other');
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? 'dir' : 'other');
    });
  });
}

/** The store at `dir` exists and has a base (the volume was mounted before). */
async function hasBase(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  const { Store } = await import('../store/store.js');
  const { REF_BASE } = await import('../store/kv.js');
  const s = await Store.open(dir).catch(() => undefined);
  if (s === undefined) return false;
  try {
    return s.getRef(REF_BASE) !== undefined;
  } finally {
    await s.close();
  }
}

export async function mountVolume(
  m: MountRequest,
): Promise<{ remote: string; mountpoint: string; store: string }> {
  const storeDir = m.store ?? defaultStoreFor(m.remote);
  const { metaMs } = deadlinesFromEnv();
  const answered = await remoteAnswers(m.remote, metaMs);
  if (answered === 'silent') {
    const seconds = metaMs / 1000;
    if (!(await hasBase(storeDir))) {
      throw new TetherError(
        'EIO',
        `the server did not answer within ${seconds} s (ls ${m.remote} hangs): a first mount must scan it, so nothing was mounted; check that the server and its share answer, then run "tether mount" again`,
        { remote: m.remote },
      );
    }
    m.log(
      `the server did not answer within ${seconds} s: the volume mounts from its cache and goes offline; it reconnects once the server answers ("tether status" shows the mode)`,
    );
  }
  if (answered === 'other') {
    // The child just answered: a stat here tells which way the remote is wrong.
    const rs = await stat(m.remote).catch(() => undefined);
    if (rs === undefined || !rs.isDirectory()) {
      throw new TetherError(
        'EUSAGE',
        `the remote ${m.remote} ${rs === undefined ? 'does not exist' : 'is not a directory'}: give the directory on the server (mount the share first if it is one)`,
        { remote: m.remote },
      );
    }
  }
  checkFuse();
  const there = mountAt(m.mountpoint);
  if (there !== undefined) {
    const stale =
      isTetherMount(there) &&
      there.source === FSNAME_PREFIX + storeDir &&
      !(await daemonAnswers(storeDir));
    if (!stale) {
      throw new TetherError(
        'EUSAGE',
        `${m.mountpoint} is already a mount point (${there.fstype} ${there.source}): unmount it first, or choose another directory`,
        { mountpoint: m.mountpoint },
      );
    }
    m.log(`${m.mountpoint}: the daemon of an earlier mount is gone; cleaning up its mount`);
    lazyUnmount(m.mountpoint);
  }
  const ms = await stat(m.mountpoint).catch(() => undefined);
  if (ms === undefined || !ms.isDirectory()) {
    throw new TetherError(
      'EUSAGE',
      `the mount point ${m.mountpoint} ${ms === undefined ? 'does not exist' : 'is not a directory'}: create an empty directory there (mkdir -p ${m.mountpoint})`,
      { mountpoint: m.mountpoint },
    );
  }
  if ((await readdir(m.mountpoint)).length > 0) {
    throw new TetherError(
      'EUSAGE',
      `the mount point ${m.mountpoint} is not empty: mount on an empty directory`,
      { mountpoint: m.mountpoint },
    );
  }
  if (await daemonAnswers(storeDir)) {
    throw new TetherError(
      'ELOCKED',
      `the store ${storeDir} is already mounted by a running daemon: unmount that volume first`,
      { store: storeDir },
    );
  }
  const out = { remote: m.remote, mountpoint: m.mountpoint, store: storeDir };

  if (m.foreground) {
    const { runDaemon } = await import('./volume-daemon.js');
    await runDaemon({
      storeDir,
      remote: m.remote,
      mountpoint: m.mountpoint,
      allowOther: m.allowOther,
      serverSilent: answered === 'silent',
      ...(m.cacheSize === undefined ? {} : { cacheSize: m.cacheSize }),
      ...(m.pinCacheSize === undefined ? {} : { pinCacheSize: m.pinCacheSize }),
      log: m.log,
    });
    return out;
  }

  await mkdir(dirname(storeDir), { recursive: true, mode: 0o700 });
  // Made (or checked to be a store) here: the daemon's log then goes into it.
  const { Store } = await import('../store/store.js');
  await (await Store.openOrCreate(storeDir)).close();
  const logFile = logFileOf(storeDir);
  const fd = openSync(logFile, 'a', 0o600);
  const before = readLog(logFile).length;
  const child = spawn(
    process.execPath,
    [
      m.launcher,
      '__daemon',
      '--store',
      storeDir,
      ...(m.allowOther ? ['--allow-other'] : []),
      // The daemon then looks for itself before it mounts (volume-daemon.ts).
      ...(answered === 'silent' ? ['--server-silent'] : []),
      ...(m.cacheSize === undefined ? [] : ['--cache-size', String(m.cacheSize)]),
      ...(m.pinCacheSize === undefined ? [] : ['--pin-cache-size', String(m.pinCacheSize)]),
      m.remote,
      m.mountpoint,
    ],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  for (;;) {
    if (exited !== undefined) {
      const said = readLog(logFile).slice(before);
      const last = said
        .split('\n')
        .filter((l) => l.startsWith('tether: '))
        .pop();
      throw new TetherError(
        'EUSAGE',
        last !== undefined
          ? last.slice('tether: '.length)
          : `the daemon stopped at once (exit ${String(exited)}); its log is ${logFile}`,
      );
    }
    const now = mountAt(m.mountpoint);
    if (now !== undefined && isTetherMount(now) && (await daemonAnswers(storeDir))) return out;
    await sleep(50);
  }
}

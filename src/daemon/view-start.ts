// Starting a view's daemon from the command line: bad input refused before anything is made
// (no such store or snapshot, a store that is no volume, a mount point in use), the daemon
// started detached with its output in its directory's daemon.log, and the command returning
// once the mount answers. Stopping one is in unmount.ts.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TetherError } from '../errors.js';
import { Store } from '../store/store.js';
import { daemonAnswers } from '../volume/control.js';
import { mountAt } from '../sync/mounts.js';
import { locate } from '../volume/find.js';
import { logFileOf } from '../volume/layout.js';
import { checkFuse } from './volume-start.js';
import { lazyUnmount, readLog } from './unmount.js';
import { describeView, rootOf, type ViewOf } from './view-daemon.js';
import { isViewMount } from '../view/find.js';
import { VIEW_FSNAME_PREFIX, viewDirOf } from '../view/layout.js';

export interface ViewRequest {
  readonly mountpoint: string;
  readonly of: ViewOf;
  /** The store, given directly (--store) … */
  readonly store?: string;
  /** … or as a mounted volume (--of MOUNTPOINT). */
  readonly volume?: string;
  readonly foreground: boolean;
  readonly allowOther: boolean;
  readonly launcher: string;
  readonly log: (line: string) => void;
}

function storeOf(r: ViewRequest): string {
  if (r.store !== undefined) return r.store;
  if (r.volume === undefined) {
    throw new TetherError('EUSAGE', 'say which volume: --of MOUNTPOINT (or --store DIR)');
  }
  const l = locate(r.volume);
  if (l === undefined) {
    throw new TetherError(
      'EUSAGE',
      `${r.volume} is not in a mounted tether volume: give its mount point, or the store with --store DIR`,
      { path: r.volume },
    );
  }
  return l.storeDir;
}

async function checkMountpoint(mp: string, viewDir: string, log: (l: string) => void) {
  const there = mountAt(mp);
  if (there !== undefined) {
    const stale =
      isViewMount(there) && !(await daemonAnswers(there.source.slice(VIEW_FSNAME_PREFIX.length)));
    if (!stale) {
      throw new TetherError(
        'EUSAGE',
        `${mp} is already a mount point (${there.fstype} ${there.source}): unmount it first, or choose another directory`,
        { mountpoint: mp },
      );
    }
    log(`${mp}: the daemon of an earlier view is gone; cleaning up its mount`);
    lazyUnmount(mp);
  }
  const st = await stat(mp).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) {
    throw new TetherError(
      'EUSAGE',
      `the mount point ${mp} ${st === undefined ? 'does not exist' : 'is not a directory'}: create an empty directory there (mkdir -p ${mp})`,
      { mountpoint: mp },
    );
  }
  if ((await readdir(mp)).length > 0) {
    throw new TetherError(
      'EUSAGE',
      `the mount point ${mp} is not empty: mount on an empty directory`,
    );
  }
  if (await daemonAnswers(viewDir)) {
    throw new TetherError('ELOCKED', `a view daemon already serves ${mp}: unmount it first`);
  }
}

/** Check that the store can show this view (the snapshot exists, the store is a volume). */
async function checkView(storeDir: string, of: ViewOf): Promise<void> {
  const store = await Store.open(storeDir, { readOnly: true });
  try {
    rootOf(store, storeDir, of);
  } finally {
    await store.close();
  }
}

export async function mountView(r: ViewRequest): Promise<{ store: string; what: string }> {
  const storeDir = storeOf(r);
  await checkView(storeDir, r.of);
  checkFuse();
  const viewDir = viewDirOf(storeDir, r.mountpoint);
  await checkMountpoint(r.mountpoint, viewDir, r.log);
  const out = { store: storeDir, what: describeView(r.of) };
  const opts = { storeDir, viewDir, mountpoint: r.mountpoint, of: r.of, allowOther: r.allowOther };
  if (r.foreground) {
    const { runViewDaemon } = await import('./view-daemon.js');
    await runViewDaemon({ ...opts, log: r.log });
    return out;
  }
  await mkdir(viewDir, { recursive: true, mode: 0o700 });
  const logFile = logFileOf(viewDir);
  const fd = openSync(logFile, 'a', 0o600);
  const before = readLog(logFile).length;
  const what = 'snapshot' in r.of ? ['--snapshot', r.of.snapshot] : ['--variant', r.of.variant];
  const child = spawn(
    process.execPath,
    [
      r.launcher,
      '__view-daemon',
      '--store',
      storeDir,
      ...what,
      ...(r.allowOther ? ['--allow-other'] : []),
      r.mountpoint,
    ],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  let exited: number | undefined;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  for (;;) {
    if (exited !== undefined) {
      const last = readLog(logFile)
        .slice(before)
        .split('\n')
        .filter((l) => l.startsWith('tether: '))
        .pop();
      throw new TetherError(
        'EUSAGE',
        last?.slice('tether: '.length) ??
          `the view daemon stopped at once (exit ${String(exited)}); its log is ${logFile}`,
      );
    }
    const now = mountAt(r.mountpoint);
    if (now !== undefined && isViewMount(now) && (await daemonAnswers(viewDir))) return out;
    await sleep(50);
  }
}

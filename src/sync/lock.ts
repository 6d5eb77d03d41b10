// One process at a time changes a sync store's replicas: sync-dirs and resolve take this lock
// (a file holding the pid, in the store directory). A lock whose process is gone is stale and
// taken over. A volume's daemon holds its store the same way (takePidFile). While a volume
// daemon serves the store, a held lock is waited for, a while, rather than refused: the
// volume's background syncs (run by the daemon's agent) take it and end by themselves, and a
// command run next to a mounted volume should not fail because one happened to be running.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TetherError } from '../errors.js';
import { processAlive } from '../store/store.js';
import { daemonPidFile } from '../store/store-files.js';

const lockPath = (storeDir: string): string => join(storeDir, 'sync.lock');

/** How long a command waits for the store's daemon to finish its sync. */
const DAEMON_WAIT_MS = waitFromEnv(process.env['TETHER_LOCK_WAIT_MS']);

function waitFromEnv(text: string | undefined): number {
  const v = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(v) && v >= 0 ? v : 30_000;
}

const POLL_MS = 50;

export async function takeSyncLock(storeDir: string, what: string): Promise<void> {
  const until = Date.now() + DAEMON_WAIT_MS;
  for (;;) {
    try {
      await takeSyncLockOnce(storeDir, what);
      return;
    } catch (err) {
      const holder = err instanceof TetherError ? err.data['pid'] : undefined;
      if (typeof holder !== 'number' || Date.now() >= until) throw err;
      const daemon = await daemonPid(storeDir);
      if (daemon === undefined || !processAlive(daemon)) throw err;
      await sleep(POLL_MS);
    }
  }
}

async function daemonPid(storeDir: string): Promise<number | undefined> {
  const pid = Number(await readFile(daemonPidFile(storeDir), 'utf8').catch(() => '0'));
  return pid > 0 ? pid : undefined;
}

function takeSyncLockOnce(storeDir: string, what: string): Promise<void> {
  return takePidFile(
    lockPath(storeDir),
    (pid) =>
      new TetherError(
        'ELOCKED',
        `another tether command (pid ${pid}) is syncing or resolving with the store ${storeDir}: ` +
          `wait for it to finish, then run ${what} again`,
        { pid },
      ),
    () =>
      new TetherError('ELOCKED', `cannot take the lock ${lockPath(storeDir)}; run ${what} again`),
  );
}

/**
 * Take the file at `path` for this process: made holding its pid, or taken over from a process
 * that is gone (a stale one is removed and made again). Held by a running process: `held`.
 */
export async function takePidFile(
  path: string,
  held: (pid: number) => Error,
  stuck: () => Error,
): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(await readFile(path, 'utf8').catch(() => '0'));
    if (pid > 0 && pid !== process.pid && processAlive(pid)) throw held(pid);
    await unlink(path).catch(() => undefined); // stale: its process is gone
  }
  throw stuck();
}

export async function releaseSyncLock(storeDir: string): Promise<void> {
  await unlink(lockPath(storeDir)).catch(() => undefined);
}

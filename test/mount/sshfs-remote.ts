// A tether volume whose remote is a real network filesystem: a directory exported by an sshd
// on loopback, mounted with sshfs, and a tether mount over that. Faults are real: the sshd
// stopped (every call on the share hangs), killed (calls fail), resumed or restarted on the
// same port. Teardown resumes, unmounts (tether, then sshfs, lazily if need be) and stops the
// sshd whatever happened; the temp directory is removed only once nothing is mounted in it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { tempDir } from '../cli/run.js';
import {
  mountedAt,
  processTree,
  signalAll,
  sshfsArgs,
  startSshd,
  why as sshdWhy,
} from '../sync/sshd.js';
import { cannotMount, tetherRun, type Ran } from './harness.js';

export const cannotSshfs: string | undefined = cannotMount ?? sshdWhy;

export interface SshfsVolume {
  readonly dir: string;
  /** The directory the sshd exports (the server's own disk: safe to read from the test). */
  readonly exported: string;
  /** The sshfs mount of it: the volume's remote. */
  readonly share: string;
  readonly mnt: string;
  readonly store: string;
  /** Stop every sshd process (listener and sessions): calls on the share hang. */
  hang(): void;
  resume(): void;
  /** Kill every sshd process: calls on the share fail. */
  kill(): void;
  /** Start the sshd again on the same port and keys. */
  restart(): Promise<void>;
  /** `tether mount` of the share (with the volume's environment), answered within `limitMs`. */
  mount(limitMs?: number): Promise<Ran>;
}

export async function sshfsVolume(
  t: ExecutionContext,
  fill: (exported: string) => void,
  env: Record<string, string> = {},
  /**
   * Log in as this user (not root): its permissions on the exported tree then apply, as to
   * any user of a share. The exported tree is made its own.
   */
  user?: { name: string; uid: number; gid: number },
  /** SFTP requests the server refuses (startSshd's `deny`). */
  deny: readonly string[] = [],
  /** Mount tether over the share now (false: the test calls `mount` itself). */
  mountNow = true,
): Promise<SshfsVolume> {
  const { dir, cleanup } = tempDir('tether-sshfs-');
  const exported = join(dir, 'exported');
  const share = join(dir, 'share');
  const mnt = join(dir, 'mnt');
  const store = join(dir, 'store');
  for (const d of [exported, share, mnt]) mkdirSync(d);
  fill(exported);
  if (user !== undefined) {
    chmodSync(dir, 0o755);
    spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, exported]);
  }
  let sshd = await startSshd(dir, deny);

  let stopped: number[] = [];
  const all = (): number[] => (sshd.proc.pid === undefined ? [] : processTree(sshd.proc.pid));

  t.teardown(async () => {
    signalAll(stopped, 'SIGCONT');
    if (mountedAt(mnt)) {
      const r = await tetherRun(['unmount', mnt], 30_000);
      if (r.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
    }
    const pidFile = join(store, 'daemon.pid');
    if (existsSync(pidFile)) signalAll([Number(readFileSync(pidFile, 'utf8'))], 'SIGKILL');
    if (mountedAt(share)) spawnSync('fusermount', ['-uz', share]);
    signalAll(all(), 'SIGKILL');
    if (!mountedAt(dir)) cleanup();
  });

  // Reconnect after the server restarts.
  const m = spawnSync(
    'sshfs',
    sshfsArgs(sshd, exported, share, { user: user?.name, more: ['reconnect'] }),
    { timeout: 20_000 },
  );
  if (m.status !== 0) throw new Error(`sshfs failed: ${String(m.stderr)}`);
  const mount = (limitMs = 60_000): Promise<Ran> =>
    tetherRun(['mount', share, mnt, '--store', store], limitMs, { ...process.env, ...env });
  if (mountNow) {
    const r = await mount();
    if (r.status !== 0) throw new Error(`tether mount failed: ${r.stderr}`);
  }
  return {
    mount,
    dir,
    exported,
    share,
    mnt,
    store,
    hang: () => {
      stopped = all();
      signalAll(stopped, 'SIGSTOP');
    },
    resume: () => {
      signalAll(stopped, 'SIGCONT');
      stopped = [];
    },
    kill: () => {
      signalAll(all(), 'SIGKILL');
    },
    restart: async () => {
      const proc: ChildProcess = spawn(
        '/usr/sbin/sshd',
        ['-D', '-e', '-f', join(dir, 'sshd_config')],
        {
          stdio: ['ignore', 'ignore', 'ignore'],
        },
      );
      sshd = { ...sshd, proc };
      await new Promise((res) => setTimeout(res, 500));
    },
  };
}

// Real mounts for tests: a remote directory, a mount point and a store in a temp directory, a
// daemon started by `tether mount` (another process, so this one may touch the mount), and a
// teardown that always unmounts. Every call that goes into the mount runs in a child process
// with a deadline and is abandoned when it passes: a call into a hung mount cannot be killed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { loadLowLevel } from '../../src/fuse/lowlevel-addon.js';
import { MAIN, tempDir } from '../cli/run.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why mount tests cannot run here (undefined: they can). */
export const cannotMount: string | undefined = !existsSync('/dev/fuse')
  ? 'no /dev/fuse'
  : !has('fusermount') && !has('fusermount3')
    ? 'fusermount is not installed (.ci/run installs fuse3)'
    : loadLowLevel() === undefined
      ? "tether's FUSE binding is not built (.ci/run installs libfuse3-dev and pkg-config)"
      : undefined;

export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Run a program; past `timeoutMs` it is killed and abandoned (not waited for). */
export function run(
  cmd: string,
  args: readonly string[],
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = process.env,
  /** Run as this user and group (and from /, which every user may enter). */
  as?: { uid: number; gid: number },
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
      ...(as === undefined ? {} : { ...as, cwd: '/' }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({
        status: -1,
        stdout,
        stderr: stderr + `\n(timed out after ${timeoutMs} ms)`,
        timedOut: true,
      });
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr, timedOut: false });
    });
  });
}

export const tetherRun = (
  args: readonly string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Ran> => run(process.execPath, [MAIN, ...args], timeoutMs, env);

/** A shell script, run in a child (for everything done inside the mount). */
export const sh = (script: string, timeoutMs = 20_000): Promise<Ran> =>
  run('sh', ['-c', script], timeoutMs);

export interface Volume {
  readonly dir: string;
  readonly remote: string;
  readonly mnt: string;
  readonly store: string;
  /** Unmount (the daemon flushes), or detach when that fails. */
  unmount(): Promise<void>;
}

/** Make a remote (filled by `fill`), mount it, and unmount at teardown whatever happens. */
export async function mounted(
  t: ExecutionContext,
  fill: (remote: string) => void,
  /** The daemon's environment additions (TETHER_PULL_MS…). */
  env: Record<string, string> = {},
  /** More `tether mount` options (--allow-other…). */
  mountArgs: readonly string[] = [],
  /** The remote, where it is not a directory of the test's own (a fixture mount, say). */
  remoteAt?: string,
): Promise<Volume> {
  const { dir, cleanup } = tempDir('tether-mount-');
  const remote = remoteAt ?? join(dir, 'remote');
  const mnt = join(dir, 'mnt');
  const store = join(dir, 'store');
  if (remoteAt === undefined) mkdirSync(remote);
  mkdirSync(mnt);
  fill(remote);
  let up = false;
  const unmount = async (): Promise<void> => {
    if (!up) return;
    up = false;
    const r = await tetherRun(['unmount', mnt], 60_000);
    if (r.status !== 0) {
      t.log(`unmount failed (${r.stderr.trim()}); detaching`);
      spawnSync('fusermount', ['-uz', mnt]);
    }
  };
  t.teardown(async () => {
    await unmount();
    // A daemon that outlived its mount is stopped by its pid.
    const pidFile = join(store, 'daemon.pid');
    if (existsSync(pidFile)) {
      // The daemon may remove it in between: then it is gone.
      const pid = Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'r' }).trim() || '0');
      try {
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(mnt))
      spawnSync('fusermount', ['-uz', mnt]);
    cleanup();
  });
  const r = await tetherRun(['mount', remote, mnt, '--store', store, ...mountArgs], 60_000, {
    ...process.env,
    ...env,
  });
  if (r.status !== 0) throw new Error(`tether mount failed: ${r.stderr}`);
  up = true;
  return { dir, remote, mnt, store, unmount };
}

/** Wait until `check` holds (polled), or fail after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  stepMs = 100,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** The volume's mode as `tether status --json` details it (`online`, `offline:failure`, …). */
export async function modeDetail(mnt: string): Promise<string> {
  const s = await tetherRun(['status', mnt, '--json'], 15_000);
  if (s.status !== 0) return `status failed: ${s.stderr}`;
  return (JSON.parse(s.stdout) as { modeDetail: string }).modeDetail;
}

/** The request counts the daemon logged at unmount (TETHER_FUSE_TRACE=1), by kind. */
export function requestCounts(store: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of lastLogLine(store, 'requests: ').matchAll(/(\w+) (\d+) [\d.]+µs/g)) {
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The daemon log's last line holding `marker`, from the marker's end on ('' if none). */
function lastLogLine(store: string, marker: string): string {
  const line = readFileSync(join(store, 'daemon.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(marker))
    .pop();
  return line === undefined ? '' : line.slice(line.indexOf(marker) + marker.length);
}

/**
 * The requests the kernel sent the daemon by kind, those its session thread answered itself
 * among them (logged at unmount with TETHER_FUSE_TRACE=1).
 */
export function kernelCounts(store: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of lastLogLine(store, 'at the kernel: ').matchAll(/(\w+) (\d+)/g)) {
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

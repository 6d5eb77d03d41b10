// Real mounts for tests: a fixture filesystem served by a child process (see serve.ts), and
// commands run against mounts in child processes with deadlines. A call into a hung mount
// cannot be interrupted, so the test process never makes one: it starts a child, and a child
// past its deadline is killed and abandoned, never awaited without end.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CacheTimes } from '../../src/fuse/lowlevel-context.js';

const SERVE = fileURLToPath(new URL('./serve.js', import.meta.url));

/** Why mount tests cannot run here, or undefined when they can. */
export function whyNoMount(): string | undefined {
  if (process.platform !== 'linux') return 'FUSE mounts are tested on Linux only';
  if (process.getuid?.() !== 0) return 'not root (the fixtures switch users and use allow_other)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (spawnSync('sh', ['-c', 'command -v fusermount']).status !== 0) {
    return 'fusermount is missing (Debian: fuse3)';
  }
  return undefined;
}

export function isMounted(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);
}

export interface Result {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command in a child process; past the deadline it is killed and left behind. */
export function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(o.uid === undefined ? {} : { uid: o.uid }),
      ...(o.gid === undefined ? {} : { gid: o.gid }),
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    let done = false;
    const finish = (status: number | null, timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: err, timedOut });
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      finish(null, true);
    }, o.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      err += String(e);
      finish(127, false);
    });
    child.on('close', (status) => {
      finish(status, false);
    });
  });
}

/** `sh -c script` in a child (the script's arguments as $1, $2...). */
export function sh(
  script: string,
  args: readonly string[] = [],
  o: RunOptions = {},
): Promise<Result> {
  return run('sh', ['-c', script, 'sh', ...args], o);
}

export type Fixture = 'passthrough' | 'faulty' | 'synthetic';

/** How serve.ts mounts a fixture (the binding's defaults otherwise: long cache lifetimes). */
export interface FixtureOptions {
  readonly times?: CacheTimes;
  readonly allowOther?: boolean;
}

export interface FixtureMount {
  /** The backing directory (passthrough) and the mountpoint. */
  readonly root: string;
  readonly dir: string;
  /** Kill the serving process: every call on the mount then fails (ENOTCONN). */
  kill(): void;
  unmount(): Promise<void>;
}

/** Detaches dir with fusermount in a child with a deadline. */
export async function fusermountUnmount(dir: string): Promise<void> {
  if (!isMounted(dir)) return;
  await run('fusermount', ['-uz', dir], { timeoutMs: 10_000 });
}

/** Mounts a fixture (a fresh backing directory under a temporary one) served by a child. */
export async function mountFixture(
  fixture: Fixture,
  options: FixtureOptions = {},
  deadlineMs = 20_000,
): Promise<FixtureMount> {
  const base = mkdtempSync(join(tmpdir(), 'tether-fuse-'));
  chmodSync(base, 0o755); // other users reach the mount through it
  const root = join(base, 'root');
  const dir = join(base, 'mnt');
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(dir);
  const child = spawn(process.execPath, [SERVE, fixture, root, dir, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let text = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the ${fixture} fixture did not mount`));
    }, deadlineMs);
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString();
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${fixture} fixture exited with ${code}`));
    });
  });
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      resolve();
    }),
  );
  const unmount = async (): Promise<void> => {
    child.kill('SIGTERM');
    const late = new Promise<'late'>((resolve) =>
      setTimeout(() => {
        resolve('late');
      }, 10_000),
    );
    if ((await Promise.race([exited, late])) === 'late') child.kill('SIGKILL');
    await fusermountUnmount(dir);
    if (!isMounted(dir)) rmSync(base, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (err) {
    await unmount();
    throw err;
  }
  return { root, dir, kill: () => child.kill('SIGKILL'), unmount };
}

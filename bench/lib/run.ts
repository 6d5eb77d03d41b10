// Running and timing whole commands for the benchmarks: wall time from process start to exit,
// as a user waits for it, and CPU time (user + system, of the command and every process it
// waited for), which swings less than wall time with the machine's load.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TETHER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tether.cjs');

export interface Timed {
  readonly seconds: number;
  /** User + system CPU seconds (NaN where /proc is not there); 10 ms steps. */
  readonly cpuSeconds: number;
  /** The user and system parts of cpuSeconds. */
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

let ticksPerSecond: number | undefined;

/**
 * User and system CPU seconds of this process's waited-for children so far (Linux:
 * /proc/self/stat's cutime and cstime, in clock ticks), or NaN. A command run by spawnSync is
 * waited for, so its time, and its own children's, is added here when it exits.
 */
function childrenCpu(): [number, number] {
  try {
    ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
    const stat = readFileSync('/proc/self/stat', 'latin1');
    // Fields after the command's name (in parentheses, which may hold spaces), from field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[16 - 3]) / ticksPerSecond, Number(fields[17 - 3]) / ticksPerSecond];
  } catch {
    return [NaN, NaN];
  }
}

export function timed(argv: readonly string[], opts: SpawnSyncOptions = {}): Timed {
  const [user0, system0] = childrenCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    ...opts,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const [user1, system1] = childrenCpu();
  const userSeconds = user1 - user0;
  const systemSeconds = system1 - system0;
  if (r.error !== undefined) throw r.error;
  return {
    seconds,
    cpuSeconds: userSeconds + systemSeconds,
    userSeconds,
    systemSeconds,
    status: r.status ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

/** Run and insist on success (a benchmark of a failing command measures nothing). */
export function must(argv: readonly string[], opts: SpawnSyncOptions = {}, ok = [0]): Timed {
  const r = timed(argv, opts);
  if (!ok.includes(r.status)) {
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  }
  return r;
}

export function tether(args: readonly string[], opts: SpawnSyncOptions = {}, ok = [0]): Timed {
  return must([process.execPath, TETHER, ...args], opts, ok);
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${v}`);
  return n;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

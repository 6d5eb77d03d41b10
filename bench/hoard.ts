// Benchmark (issue 16, Performance): hoarding a pinned directory over a real sshfs share (an
// sshd on loopback) against `cp -a` and `rsync -a` of the same directory from the same share,
// in the same run: BENCH_ROUNDS interleaved rounds (each its own fresh volume and copies, the
// order turned each round), medians reported, wall time and CPU time (user + system) of
// tether's daemon and agents against the copying process's, and the share's own (sshfs and
// sshd) beside. On a loaded machine the wall times swing with the load; the CPU times say what
// each one costs. BENCH_BASELINE=FILE (another build's tether.cjs) hoards in the same rounds,
// for a before/after. Then, once, how fast any reader gets those bytes out of the share at all
// (parallel cats, one tar: the ceiling), and the time from a server hang to the first answered
// request in the mount and from the server's resume to a completed automatic sync
// (BENCH_EXTRAS=0 skips these). BENCH_PEERS=0 leaves out cp and rsync (a before/after only).
//
// Sizes: BENCH_FILES (20000), BENCH_MB (200), BENCH_ROUNDS (3), BENCH_DIR (where the work
// directory is made; default the temp dir), BENCH_KEEP=1 keeps it. The last line printed is
// one JSON summary.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountedAt, processTree, signalAll, sshfsArgs, startSshd } from '../test/sync/sshd.js';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, must, round3, TETHER, timed, type Timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const BASELINE = process.env['BENCH_BASELINE'];
const EXTRAS = process.env['BENCH_EXTRAS'] !== '0';
const PEERS = process.env['BENCH_PEERS'] !== '0';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds (user + system) the processes of `pids` have used so far, by their command name
 * (`label` may name one otherwise).
 */
function cpuByName(
  pids: readonly number[],
  label: (pid: number) => string | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
      const name = label(pid) ?? stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / 100; // utime, stime: clock ticks
      out.set(name, (out.get(name) ?? 0) + s);
    } catch {
      // gone
    }
  }
  return out;
}

/** The pid of the `name` process whose command line names `arg` (none: empty). */
function findPid(name: string, arg: string): number[] {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith(name) === true && cmd.includes(arg)) return [Number(p)];
    } catch {
      // gone
    }
  }
  return [];
}

/** The tether at `cli` run with `args`, insisting on success. */
function run(cli: string, args: readonly string[], opts: Parameters<typeof must>[1] = {}): Timed {
  return must([process.execPath, cli, ...args], opts);
}

/** CPU seconds of `pids`, all together. */
const cpuOf = (pids: readonly number[]): number =>
  [...cpuByName(pids, () => 'all').values()].reduce((a, b) => a + b, 0);

/** One contender's time in one round: wall, its own CPU, and the share's (sshfs, sshd). */
interface Sample {
  readonly wall: number;
  readonly cpu: number;
  readonly shareCpu: number;
  /** Of `cpu`, the daemon's (tether only: the rest is its agents'). */
  readonly daemonCpu?: number;
}

interface Share {
  readonly exported: string;
  readonly share: string;
  readonly work: string;
  /** The share's processes (sshfs, sshd and its sftp servers) now. */
  readonly pids: () => number[];
}

/**
 * A hoard by the tether at `cli` into a fresh volume: mounted, pinned, hoarded (timed, with
 * the CPU of the daemon and its agents), then unmounted and its store removed.
 */
function hoardOnce(cli: string, s: Share, name: string): Sample {
  const mnt = join(s.work, `mnt-${name}`);
  const store = join(s.work, `store-${name}`);
  mkdirSync(mnt, { recursive: true });
  run(cli, ['mount', s.share, mnt, '--store', store], {
    env: { ...process.env, TETHER_PULL_MS: '600000' },
  });
  try {
    run(cli, ['pin', '--recursive', join(mnt, 'tree')]);
    const daemon = Number(readFileSync(join(store, 'daemon.pid'), 'utf8'));
    const own = processTree(daemon);
    const ownBefore = cpuOf(own);
    const daemonBefore = cpuOf([daemon]);
    const shareBefore = cpuOf(s.pids());
    const hoard = run(cli, ['hoard', mnt, '--json']);
    const cpu = cpuOf(own) - ownBefore;
    const daemonCpu = cpuOf([daemon]) - daemonBefore;
    const shareCpu = cpuOf(s.pids()) - shareBefore;
    const h = JSON.parse(hoard.stdout) as { done: number; failed: number };
    if (h.failed > 0 || h.done !== FILES) throw new Error(`hoard: ${hoard.stdout}`);
    return { wall: hoard.seconds, cpu, shareCpu, daemonCpu };
  } finally {
    unmount(cli, mnt);
    if (!mountedAt(mnt)) rmSync(store, { recursive: true, force: true });
  }
}

function unmount(cli: string, mnt: string): void {
  if (!mountedAt(mnt)) return;
  const r = spawnSync(process.execPath, [cli, 'unmount', mnt], { timeout: 60_000 });
  if (r.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
}

/**
 * A copy of the share's tree by `argv` (its destination last), timed, with the CPU of the
 * copying process and the children it waited for (the shell's `times`); the copy removed after.
 */
function copyOnce(argv: readonly string[], s: Share): Sample {
  const shareBefore = cpuOf(s.pids());
  const quoted = argv.map((a) => `'${a}'`).join(' ');
  const r = must(['sh', '-c', `${quoted}; s=$?; times; exit $s`]);
  const shareCpu = cpuOf(s.pids()) - shareBefore;
  // times: the shell's user and system time, then its children's ("0m1.234s 0m0.567s").
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  rmSync(argv[argv.length - 1]!, { recursive: true, force: true });
  return { wall: r.seconds, cpu: (secs[0] ?? NaN) + (secs[1] ?? NaN), shareCpu };
}

/** Medians of a contender's rounds. */
function medians(xs: readonly Sample[]): Sample {
  const daemon = xs.flatMap((x) => (x.daemonCpu === undefined ? [] : [x.daemonCpu]));
  return {
    wall: round3(median(xs.map((x) => x.wall))),
    cpu: round3(median(xs.map((x) => x.cpu))),
    shareCpu: round3(median(xs.map((x) => x.shareCpu))),
    ...(daemon.length === 0 ? {} : { daemonCpu: round3(median(daemon)) }),
  };
}

/** The ceiling, a server hang and a resume (see the header), on a fresh mount. */
async function extras(s: Share): Promise<Record<string, unknown>> {
  const tree = join(s.share, 'tree');
  const catAll = must([
    'sh',
    '-c',
    `find ${tree} -type f -print0 | xargs -0 -P16 -n64 cat > /dev/null`,
  ]);
  const tarAll = must(['sh', '-c', `tar cf - -C ${tree} . | cat > /dev/null`]);
  const mnt = join(s.work, 'mnt-hang');
  mkdirSync(mnt);
  run(TETHER, ['mount', s.share, mnt, '--store', join(s.work, 'store-hang')], {
    env: { ...process.env, TETHER_PULL_MS: '600000' },
  });
  let stopped: number[] = [];
  try {
    // A server hang: the first request to the mount that needs the server is answered
    // (ENODATA) after the agent's deadline; then a write, a resume, and the automatic sync.
    stopped = s.pids();
    signalAll(stopped, 'SIGSTOP');
    const hungAt = Date.now();
    const first = timed(['sh', '-c', `cat ${mnt}/outside.txt`], { timeout: 20_000 });
    const hangToAnswer = (Date.now() - hungAt) / 1000;
    must(['sh', '-c', `printf x > ${mnt}/written-offline.txt`], { timeout: 10_000 });
    await sleep(3000); // the failed fetch took the volume offline
    const resumedAt = Date.now();
    signalAll(stopped, 'SIGCONT');
    stopped = [];
    const written = join(s.exported, 'written-offline.txt');
    while (!existsSync(written) && Date.now() - resumedAt < 120_000) await sleep(50);
    return {
      bound_parallel_cat_s: round3(catAll.seconds),
      bound_tar_s: round3(tarAll.seconds),
      hang_to_first_answer_s: round3(hangToAnswer),
      first_answer: first.status === 0 ? 'content (unexpected)' : first.stderr.trim(),
      resume_to_synced_s: round3((Date.now() - resumedAt) / 1000),
    };
  } finally {
    signalAll(stopped, 'SIGCONT');
    unmount(TETHER, mnt);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-hoard-'));
  const exported = join(work, 'exported');
  const share = join(work, 'share');
  for (const d of [exported, share]) mkdirSync(d);
  const rnd = mulberry32(16);
  generateTree(join(exported, 'tree'), {
    files: FILES,
    totalBytes: MB * 1024 * 1024,
    pool: makePool(1 << 22, rnd),
  });
  writeFileSync(join(exported, 'outside.txt'), 'not pinned\n');
  const sshd = await startSshd(work);
  const all = (): number[] => processTree(sshd.proc.pid ?? 0);
  try {
    must(['sshfs', ...sshfsArgs(sshd, exported, share, { more: ['reconnect'] })]);
    const sshfsPid = findPid('sshfs', share);
    const s: Share = { exported, share, work, pids: () => [...all(), ...sshfsPid] };
    const tree = join(share, 'tree');
    const contenders: [string, () => Sample][] = [
      ['tether', () => hoardOnce(TETHER, s, 'tether')],
      ...(BASELINE === undefined
        ? []
        : [['baseline', () => hoardOnce(BASELINE, s, 'baseline')] as [string, () => Sample]]),
    ];
    if (PEERS)
      contenders.push(
        ['cp', () => copyOnce(['cp', '-a', tree, join(work, 'cp-copy')], s)],
        ['rsync', () => copyOnce(['rsync', '-a', tree + '/', join(work, 'rsync-copy') + '/'], s)],
      );
    const samples = new Map<string, Sample[]>(contenders.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Each round in another order: none always runs first (or after the same one).
      const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
      for (const [name, once] of order) {
        const x = once();
        samples.get(name)!.push(x);
        console.log(
          `round ${String(r + 1)} ${name}: ${x.wall.toFixed(2)} s, cpu ${x.cpu.toFixed(2)} s` +
            (x.daemonCpu === undefined ? '' : ` (daemon ${x.daemonCpu.toFixed(2)} s)`) +
            `, share cpu ${x.shareCpu.toFixed(2)} s`,
        );
      }
    }
    const m = Object.fromEntries([...samples].map(([n, xs]) => [n, medians(xs)])) as Record<
      string,
      Sample
    >;
    const t = m['tether']!;
    const peers = [m['cp'], m['rsync']].filter((x) => x !== undefined);
    const faster = peers.sort((a, b) => a.wall - b.wall)[0];
    const perFile = (x: Sample): number => round3((x.cpu / FILES) * 1e6);
    const summary: Record<string, unknown> = {
      files: FILES,
      mb: MB,
      rounds: ROUNDS,
      medians: m,
      ...(faster === undefined
        ? {}
        : {
            speedup_vs_faster: round3(faster.wall / t.wall),
            cpu_vs_faster: round3(faster.cpu / t.cpu),
          }),
      cpu_us_per_file: Object.fromEntries(Object.entries(m).map(([n, x]) => [n, perFile(x)])),
      cpu_s_per_gb: Object.fromEntries(
        Object.entries(m).map(([n, x]) => [n, round3((x.cpu * 1024) / MB)]),
      ),
      ...(m['baseline'] === undefined
        ? {}
        : { cpu_vs_baseline: round3(m['baseline'].cpu / t.cpu) }),
    };
    const line = (n: string, x: Sample): string =>
      `${n} ${String(x.wall)} s (cpu ${String(x.cpu)} s, share ${String(x.shareCpu)} s)`;
    console.log(
      `hoard of ${FILES} files / ${MB} MB over sshfs, medians of ${String(ROUNDS)} rounds: ` +
        Object.entries(m)
          .map(([n, x]) => line(n, x))
          .join('; '),
    );
    if (faster !== undefined)
      console.log(
        `tether: ${String(summary['speedup_vs_faster'])}x as fast as the faster peer, ` +
          `its CPU ${String(summary['cpu_vs_faster'])}x tether's`,
      );
    if (m['baseline'] !== undefined)
      console.log(`the baseline's CPU: ${String(summary['cpu_vs_baseline'])}x tether's`);
    if (EXTRAS) Object.assign(summary, await extras(s));
    console.log(JSON.stringify(summary));
  } finally {
    if (mountedAt(share)) spawnSync('fusermount', ['-uz', share]);
    signalAll(all(), 'SIGKILL');
    if (process.env['BENCH_KEEP'] !== '1' && !mountedAt(share)) {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

await main();

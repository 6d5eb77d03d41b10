// Benchmark: the start of the commands that only ask a volume's daemon (the thin command line,
// cli/thin.ts), against `node -e 0` (Node's own start, the floor) in the same rounds:
// `tether --version`, `tether --help`, and `tether status`, `online`, `hoard` and `unmount` of
// a small mounted volume (BENCH_FILES files, 200 by default; each online follows an untimed
// offline, so it is a reconnect with nothing to merge; the hoard finds everything fetched
// after the first; each unmount is followed by an untimed mount, and its wall time is mostly
// the daemon's stop). BENCH_TETHER_BEFORE names another build's tether.cjs, timed against the
// same daemon in the same rounds; BENCH_FULL=1 adds this build with TETHER_THIN=0 (the full
// command line for every command). In each round every command runs once per program, the
// programs in turn, which one goes first rotating, so all see the same load. Reported: medians
// of wall time and of CPU time (user + system, 10 ms steps; its mean too, steadier at that
// grain), and the rounds' median load. Rounds: BENCH_ROUNDS (15).
// Needs /dev/fuse and fusermount; the last line is JSON.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envInt, median, must, round3, TETHER, timed, type Timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 200);
const ROUNDS = envInt('BENCH_ROUNDS', 15);
const BEFORE = process.env['BENCH_TETHER_BEFORE'] || undefined;
const FULL = process.env['BENCH_FULL'] === '1';

const load = (): number => Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]);

/** The programs compared: Node alone, and each build's command line. */
interface Program {
  readonly name: string;
  argv(args: readonly string[]): string[];
  readonly env?: NodeJS.ProcessEnv;
}
const programs: Program[] = [
  { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] },
  { name: 'this build', argv: (args) => [process.execPath, TETHER, ...args] },
  ...(FULL
    ? [
        {
          name: 'TETHER_THIN=0',
          argv: (args: readonly string[]) => [process.execPath, TETHER, ...args],
          env: { ...process.env, TETHER_THIN: '0' },
        },
      ]
    : []),
  ...(BEFORE === undefined
    ? []
    : [{ name: 'before', argv: (args: readonly string[]) => [process.execPath, BEFORE, ...args] }]),
];

const work = mkdtempSync(join(tmpdir(), 'tether-bench-cli-start-'));
const remote = join(work, 'remote');
const mnt = join(work, 'mnt');
const store = join(work, 'store');
let mounted = false;
try {
  mkdirSync(remote);
  mkdirSync(mnt);
  for (let i = 0; i < FILES; i++) {
    const dir = join(remote, `d${i % 10}`);
    if (i < 10) mkdirSync(dir);
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`);
  }
  must([process.execPath, TETHER, 'mount', remote, mnt, '--store', store]);
  mounted = true;

  const mount = ['mount', remote, mnt, '--store', store];
  const commands: { name: string; args: string[]; before?: string[]; after?: string[] }[] = [
    { name: '--version', args: ['--version'] },
    { name: '--help', args: ['--help'] },
    { name: 'status', args: ['status', mnt] },
    { name: 'online', args: ['online', mnt], before: ['offline', mnt] },
    { name: 'hoard', args: ['hoard', mnt] },
    { name: 'unmount', args: ['unmount', mnt], after: mount },
  ];
  /** Runs by command, then program. */
  const runs = new Map<string, Map<string, Timed[]>>();
  const loads: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(load());
    for (let p = 0; p < programs.length; p++) {
      const prog = programs[(p + round) % programs.length]!;
      for (const c of commands) {
        // Node alone has no command to run: its time is the same in every row.
        if (c.before !== undefined && prog.name !== 'node -e 0') {
          must([process.execPath, TETHER, ...c.before]);
        }
        const r = timed(prog.argv(c.args), prog.env === undefined ? {} : { env: prog.env });
        if (r.status !== 0) {
          throw new Error(`${prog.name} ${c.args.join(' ')} exited ${r.status}: ${r.stderr}`);
        }
        if (c.after !== undefined && prog.name !== 'node -e 0') {
          must([process.execPath, TETHER, ...c.after]);
        }
        const byProg = runs.get(c.name) ?? new Map<string, Timed[]>();
        runs.set(c.name, byProg);
        byProg.set(prog.name, [...(byProg.get(prog.name) ?? []), r]);
      }
    }
  }

  const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const result: Record<string, Record<string, { wall: number; cpu: number; cpuMean: number }>> = {};
  console.log(
    `${ROUNDS} rounds, ${FILES} files, median load ${median(loads).toFixed(2)}: wall / CPU median (CPU mean)`,
  );
  for (const [command, byProg] of runs) {
    const row: Record<string, { wall: number; cpu: number; cpuMean: number }> = {};
    for (const [prog, rs] of byProg) {
      row[prog] = {
        wall: round3(median(rs.map((r) => r.seconds))),
        cpu: round3(median(rs.map((r) => r.cpuSeconds))),
        cpuMean: round3(mean(rs.map((r) => r.cpuSeconds))),
      };
    }
    result[command] = row;
    console.log(
      `${command.padEnd(10)} ` +
        Object.entries(row)
          .map(([p, v]) => `${p}: ${ms(v.wall)} / ${ms(v.cpu)} (${ms(v.cpuMean)})`)
          .join('   '),
    );
  }
  console.log(
    JSON.stringify({
      bench: 'cli-start',
      rounds: ROUNDS,
      files: FILES,
      load: round3(median(loads)),
      ...result,
    }),
  );
} finally {
  if (mounted) {
    const r = timed([process.execPath, TETHER, 'unmount', mnt]);
    if (r.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
  }
  rmSync(work, { recursive: true, force: true });
}

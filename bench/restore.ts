// Benchmark (issue 13, Performance): restore of a 20,000-file / ~200 MB directory snapshot
// (`tether snapshot restore`, every content in its store) to a new directory against `cp -a`
// of the same tree, in interleaved rounds (which one goes first rotates) so all see the same
// load. Wall time swings 2-4x with this machine's load, so CPU time (user and system, of the
// command and its children) is reported beside it. Every copy is kept until the end: on ext4
// without a journal, making files just after many were removed costs far more system time (new
// inodes skip the recently freed ones), which the first of each round would pay alone. The
// restore part of volume-snapshot.ts alone, without a mount. Sizes: BENCH_FILES (20000),
// BENCH_MB (200), BENCH_RUNS (5). BENCH_TETHER_BEFORE names another build's tether.cjs,
// restoring the same snapshot from the same store in the same rounds. Last line: JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, must, round3, TETHER, type Timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const RUNS = envInt('BENCH_RUNS', 5);
const BEFORE = process.env['BENCH_TETHER_BEFORE'] || undefined;

const work = mkdtempSync(join(tmpdir(), 'tether-bench-restore-'));
const plain = join(work, 'plain');
const store = join(work, 'store');

const show = (r: Timed): string =>
  `${r.seconds.toFixed(3)} s (user ${r.userSeconds.toFixed(2)} s, sys ${r.systemSeconds.toFixed(2)} s)`;

/** Medians of the runs of one command. */
function medians(rs: readonly Timed[]): {
  wall: number;
  user: number;
  system: number;
  cpu: number;
} {
  return {
    wall: median(rs.map((r) => r.seconds)),
    user: median(rs.map((r) => r.userSeconds)),
    system: median(rs.map((r) => r.systemSeconds)),
    cpu: median(rs.map((r) => r.cpuSeconds)),
  };
}

try {
  console.log(`generating ${FILES} files / ~${MB} MB`);
  const pool = makePool(16 * 1024 * 1024, mulberry32(11));
  generateTree(plain, { files: FILES, totalBytes: MB * 1024 * 1024, pool });
  must([process.execPath, TETHER, 'snapshot', 'take', 's', '--of', plain, '--store', store]);
  const restoreWith = (build: string, out: string): Timed =>
    must([process.execPath, build, 'snapshot', 'restore', 's', join(work, out), '--store', store]);
  const timings = new Map<string, Timed[]>();
  const runs: [string, (i: number) => Timed][] = [
    ['cp -a', (i) => must(['cp', '-a', plain, join(work, `copied${i}`)])],
    ['restore', (i) => restoreWith(TETHER, `restored${i}`)],
  ];
  if (BEFORE !== undefined) runs.push(['before', (i) => restoreWith(BEFORE, `before${i}`)]);
  const loads: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    // Each goes first in turn.
    const order = runs.map((_, k) => runs[(k + i - 1) % runs.length]!);
    for (const [name, run] of order) {
      // Each starts with no dirty pages left by the one before (writeback would be timed too).
      must(['sync']);
      const list = timings.get(name) ?? [];
      list.push(run(i));
      timings.set(name, list);
    }
    loads.push(loadavg()[0]!);
    console.log(
      `round ${i}: ` +
        order.map(([name]) => `${name} ${show(timings.get(name)!.at(-1)!)}`).join(', ') +
        ` (load ${loads.at(-1)!.toFixed(2)})`,
    );
  }
  const cp = medians(timings.get('cp -a')!);
  const restore = medians(timings.get('restore')!);
  const before = BEFORE === undefined ? undefined : medians(timings.get('before')!);
  const line = (name: string, m: typeof cp): string =>
    `${name} ${m.wall.toFixed(3)} s (${(m.wall / cp.wall).toFixed(2)}x), user ${m.user.toFixed(2)} s, ` +
    `sys ${m.system.toFixed(2)} s, cpu ${m.cpu.toFixed(2)} s (${(m.cpu / cp.cpu).toFixed(2)}x)`;
  console.log(
    `medians of ${RUNS} (load ${median(loads).toFixed(2)}), against cp -a (target <= 1):`,
  );
  for (const [name, m] of [
    ['cp -a', cp],
    ['restore', restore],
    ['before', before],
  ] as const) {
    if (m !== undefined) console.log(`  ${line(name, m)}`);
  }
  const json = (m: typeof cp): Record<string, number> => ({
    seconds: round3(m.wall),
    userSeconds: round3(m.user),
    systemSeconds: round3(m.system),
    cpuSeconds: round3(m.cpu),
  });
  console.log(
    JSON.stringify({
      bench: 'restore',
      files: FILES,
      megabytes: MB,
      runs: RUNS,
      load: round3(median(loads)),
      restore: json(restore),
      cp: json(cp),
      ...(before === undefined ? {} : { before: json(before) }),
      restoreRatioToCp: round3(restore.wall / cp.wall),
      restoreCpuRatioToCp: round3(restore.cpu / cp.cpu),
      met: restore.wall <= cp.wall,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

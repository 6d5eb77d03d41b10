// Benchmark (issue 13, Performance): restore of a 20,000-file / ~200 MB directory snapshot
// (`tether snapshot restore`, every content in its store) to a new directory against `cp -a`
// of the same tree, in interleaved rounds (which of the two goes first alternates) so both see
// the same load. Wall time swings 2-4x with this machine's load, so CPU time (user + system of
// the command and its children) is reported beside it. Every copy is kept until the end: on
// ext4 without a journal, making files just after many were removed costs far more system time
// (new inodes skip the recently freed ones), which the first of each round would pay alone.
// The restore part of volume-snapshot.ts
// alone, without a mount. Sizes: BENCH_FILES (20000), BENCH_MB (200), BENCH_RUNS (5). Last
// line: JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, must, round3, tether, type Timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const RUNS = envInt('BENCH_RUNS', 5);

const work = mkdtempSync(join(tmpdir(), 'tether-bench-restore-'));
const plain = join(work, 'plain');
const store = join(work, 'store');

const show = (r: Timed): string => `${r.seconds.toFixed(3)} s (cpu ${r.cpuSeconds.toFixed(2)} s)`;

try {
  console.log(`generating ${FILES} files / ~${MB} MB`);
  const pool = makePool(16 * 1024 * 1024, mulberry32(11));
  generateTree(plain, { files: FILES, totalBytes: MB * 1024 * 1024, pool });
  tether(['snapshot', 'take', 's', '--of', plain, '--store', store]);
  const cps: Timed[] = [];
  const restores: Timed[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const runs = {
      cp: (): void => {
        cps.push(must(['cp', '-a', plain, join(work, `copied${i}`)]));
      },
      restore: (): void => {
        const out = join(work, `restored${i}`);
        restores.push(tether(['snapshot', 'restore', 's', out, '--store', store]));
      },
    };
    for (const run of i % 2 === 1 ? [runs.cp, runs.restore] : [runs.restore, runs.cp]) {
      // Each starts with no dirty pages left by the one before (writeback would be timed too).
      must(['sync']);
      run();
    }
    console.log(
      `round ${i}: cp -a ${show(cps.at(-1)!)}, restore ${show(restores.at(-1)!)} ` +
        `(load ${loadavg()[0]!.toFixed(2)})`,
    );
  }
  const cp = median(cps.map((r) => r.seconds));
  const restore = median(restores.map((r) => r.seconds));
  const cpCpu = median(cps.map((r) => r.cpuSeconds));
  const restoreCpu = median(restores.map((r) => r.cpuSeconds));
  console.log(
    `medians of ${RUNS}: restore ${restore.toFixed(3)} s vs cp -a ${cp.toFixed(3)} s ` +
      `(ratio ${(restore / cp).toFixed(2)}; target <= 1); CPU restore ${restoreCpu.toFixed(2)} s ` +
      `vs cp -a ${cpCpu.toFixed(2)} s (ratio ${(restoreCpu / cpCpu).toFixed(2)})`,
  );
  console.log(
    JSON.stringify({
      bench: 'restore',
      files: FILES,
      megabytes: MB,
      runs: RUNS,
      restoreSeconds: round3(restore),
      cpSeconds: round3(cp),
      restoreRatioToCp: round3(restore / cp),
      restoreCpuSeconds: round3(restoreCpu),
      cpCpuSeconds: round3(cpCpu),
      restoreCpuRatioToCp: round3(restoreCpu / cpCpu),
      met: restore <= cp,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

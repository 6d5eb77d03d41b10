// Benchmark (issue 13, Performance): restore of a 20,000-file / ~200 MB directory snapshot
// (`tether snapshot restore`, every content in its store) to a new directory against `cp -a`
// of the same tree, interleaved (cp, restore, cp, restore, …) so both see the same load.
// The restore part of volume-snapshot.ts alone, without a mount. Sizes: BENCH_FILES (20000),
// BENCH_MB (200), BENCH_RUNS (3). Last line: JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, must, round3, tether } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const RUNS = envInt('BENCH_RUNS', 3);

const work = mkdtempSync(join(tmpdir(), 'tether-bench-restore-'));
const plain = join(work, 'plain');
const store = join(work, 'store');

try {
  console.log(`generating ${FILES} files / ~${MB} MB`);
  const pool = makePool(16 * 1024 * 1024, mulberry32(11));
  generateTree(plain, { files: FILES, totalBytes: MB * 1024 * 1024, pool });
  tether(['snapshot', 'take', 's', '--of', plain, '--store', store]);
  const cps: number[] = [];
  const restores: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const copied = join(work, 'copied');
    const restored = join(work, 'restored');
    // Each starts with no dirty pages left by the one before (writeback would be timed too).
    must(['sync']);
    cps.push(must(['cp', '-a', plain, copied]).seconds);
    must(['sync']);
    restores.push(tether(['snapshot', 'restore', 's', restored, '--store', store]).seconds);
    rmSync(copied, { recursive: true });
    rmSync(restored, { recursive: true });
    must(['sync']);
    console.log(
      `round ${i}: cp -a ${cps.at(-1)!.toFixed(3)} s, restore ${restores.at(-1)!.toFixed(3)} s ` +
        `(load ${loadavg()[0]!.toFixed(2)})`,
    );
  }
  const cp = median(cps);
  const restore = median(restores);
  console.log(
    `restore ${restore.toFixed(3)} s vs cp -a ${cp.toFixed(3)} s ` +
      `(ratio ${(restore / cp).toFixed(2)}; target <= 1)`,
  );
  console.log(
    JSON.stringify({
      bench: 'restore',
      files: FILES,
      megabytes: MB,
      restoreSeconds: round3(restore),
      cpSeconds: round3(cp),
      restoreRatioToCp: round3(restore / cp),
      met: restore <= cp,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

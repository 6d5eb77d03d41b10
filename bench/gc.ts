// Benchmark (issue 13): gc of a store with about 100,000 objects, half of them unreachable,
// against `git prune` freeing the same garbage from a repository in the same run. The store
// holds two snapshots of a BENCH_FILES (50,000) file tree whose every file was rewritten
// between them; the first snapshot is removed, so gc frees its blobs and trees. The repository
// holds the same two states as loose objects (`git add -A && git write-tree` twice, no commit),
// so `git prune` (what `git gc` runs to free unreachable objects) frees the first state's.
// `tether gc --dry-run` (the mark alone) is timed too. Medians of BENCH_RUNS (3). Last line:
// JSON.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32, mutateTree } from './lib/gentree.js';
import { envInt, median, must, round3, tether } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 50_000);
const MB = envInt('BENCH_MB', 100);
const RUNS = envInt('BENCH_RUNS', 3);

interface GcJson {
  objects: number;
  reachable: number;
  freed: number;
  freedBytes: number;
}

const work = mkdtempSync(join(tmpdir(), 'tether-bench-gc-'));
try {
  const tree = join(work, 'tree');
  console.log(`generating ${FILES} files / ~${MB} MB, then a second state with every file new`);
  const pool = makePool(16 * 1024 * 1024, mulberry32(13));
  const paths = generateTree(tree, { files: FILES, totalBytes: MB * 1024 * 1024, pool });

  // The prepared store and repository, copied afresh for each round (gc and prune destroy).
  const store0 = join(work, 'prepared-store');
  const git0 = join(work, 'prepared-git');
  const env0 = { ...process.env, GIT_DIR: git0, GIT_WORK_TREE: tree };
  must(['git', 'init', '-q', '--bare', git0]);
  tether(['snapshot', 'take', 'old', '--of', tree, '--store', store0]);
  must(['git', 'add', '-A'], { env: env0, cwd: tree });
  must(['git', 'write-tree'], { env: env0, cwd: tree });
  mutateTree(tree, paths, { fraction: 1, pool, seed: 5 });
  tether(['snapshot', 'take', 'new', '--of', tree, '--store', store0]);
  must(['git', 'add', '-A'], { env: env0, cwd: tree });
  const kept = must(['git', 'write-tree'], { env: env0, cwd: tree }).stdout.trim();
  // Only the new state is named (a ref, as a snapshot is); the index goes (it names blobs).
  must(['git', 'update-ref', 'refs/tether-bench/new', kept], { env: env0 });
  rmSync(join(git0, 'index'), { force: true });
  tether(['snapshot', 'rm', 'old', '--store', store0]);

  const dry: number[] = [];
  const real: number[] = [];
  const prune: number[] = [];
  let report: GcJson | undefined;
  for (let i = 0; i < RUNS; i++) {
    const store = join(work, `store${i}`);
    const git = join(work, `git${i}`);
    cpSync(store0, store, { recursive: true });
    cpSync(git0, git, { recursive: true });
    dry.push(tether(['gc', '--dry-run', '--json', '--store', store]).seconds);
    const r = tether(['gc', '--json', '--store', store]);
    real.push(r.seconds);
    report = JSON.parse(r.stdout) as GcJson;
    const env = { ...process.env, GIT_DIR: git };
    prune.push(must(['git', 'prune', '--expire=now'], { env }).seconds);
    tether(['fsck', '--store', store]);
    rmSync(store, { recursive: true, force: true });
    rmSync(git, { recursive: true, force: true });
  }
  const g = median(real);
  const p = median(prune);
  console.log(
    `gc of ${report?.objects ?? 0} objects, ${report?.freed ?? 0} freed ` +
      `(${((report?.freedBytes ?? 0) / 1048576).toFixed(1)} MiB), median of ${RUNS}: ` +
      `tether gc ${g.toFixed(3)} s (mark only, --dry-run: ${median(dry).toFixed(3)} s); ` +
      `git prune --expire=now ${p.toFixed(3)} s; tether / git = ${(g / p).toFixed(2)}`,
  );
  console.log(
    JSON.stringify({
      bench: 'gc',
      files: FILES,
      objects: report?.objects,
      freed: report?.freed,
      gc_s: round3(g),
      dry_run_s: round3(median(dry)),
      git_prune_s: round3(p),
      ratio: round3(g / p),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

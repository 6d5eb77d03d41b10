// Benchmark (issue 2): snapshot of a 20,000-file / ~200 MB tree, cold (a new store), against
// `git add -A && git write-tree` on the same tree (a fresh repository kept outside it), then
// the re-snapshot after 1% of the files changed, as a share of the first. Both tools read the
// same files from the same page cache; each is timed as a whole command. Medians of
// BENCH_RUNS runs (default 5). Sizes: BENCH_FILES (20000), BENCH_MB (200). BENCH_TETHER_BEFORE
// names another build's tether.cjs, timed beside this one in the same runs (a store of its
// own), with this build's time as a share of its; the two take turns going first. Last line:
// JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32, mutateTree } from './lib/gentree.js';
import { envInt, median, must, round3, tether, type Timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const RUNS = envInt('BENCH_RUNS', 5);
const BEFORE = process.env['BENCH_TETHER_BEFORE'] || undefined;
const before = (args: readonly string[]): Timed => must([process.execPath, BEFORE!, ...args]);
/**
 * The builds timed in run `i`, in the order they run: with a build before, which one goes
 * first alternates, so neither always meets the disk still writing back what the step before
 * it wrote (the tree just generated, git's objects).
 */
const buildsInRun = (i: number): readonly ('this' | 'before')[] =>
  BEFORE === undefined ? ['this'] : i % 2 === 0 ? ['this', 'before'] : ['before', 'this'];

const work = mkdtempSync(join(tmpdir(), 'tether-bench-snapshot-'));
try {
  const tree = join(work, 'tree');
  console.log(`generating ${FILES} files / ~${MB} MB in ${tree}`);
  const pool = makePool(16 * 1024 * 1024, mulberry32(11));
  const paths = generateTree(tree, { files: FILES, totalBytes: MB * 1024 * 1024, pool });

  const tetherCold: number[] = [];
  const gitCold: number[] = [];
  const beforeCold: number[] = [];
  /** CPU seconds of the same runs (they swing less than wall time on a loaded machine). */
  const tetherColdCpu: number[] = [];
  const beforeColdCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const store = join(work, `store${i}`);
    const coldOf = (build: 'this' | 'before'): void => {
      const args = ['snapshot', 'take', 'cold', '--of', tree, '--store', store];
      const t = build === 'this' ? tether(args) : before(args);
      (build === 'this' ? tetherCold : beforeCold).push(t.seconds);
      (build === 'this' ? tetherColdCpu : beforeColdCpu).push(t.cpuSeconds);
      rmSync(store, { recursive: true, force: true });
    };
    for (const build of buildsInRun(i)) coldOf(build);
    const gitDir = join(work, `git${i}`);
    const env = { ...process.env, GIT_DIR: join(gitDir, '.git'), GIT_WORK_TREE: tree };
    must(['git', 'init', '-q', gitDir]);
    const add = must(['git', 'add', '-A'], { env, cwd: tree });
    const write = must(['git', 'write-tree'], { env, cwd: tree });
    gitCold.push(add.seconds + write.seconds);
    rmSync(gitDir, { recursive: true, force: true });
  }
  const first = median(tetherCold);
  const git = median(gitCold);
  console.log(
    `cold snapshot: tether ${first.toFixed(3)} s, git add -A && git write-tree ${git.toFixed(3)} s`,
  );

  // Re-snapshot after 1% changed: a store that has the first snapshot and its scan cache, and
  // for the peer a repository whose index has the first state. Each round changes another 1%
  // (other files) and times both; the median round is reported.
  const store = join(work, 'store');
  tether(['snapshot', 'take', 'v0', '--of', tree, '--store', store]);
  const storeBefore = join(work, 'store-before');
  if (BEFORE !== undefined)
    before(['snapshot', 'take', 'v0', '--of', tree, '--store', storeBefore]);
  const beforeAgain: number[] = [];
  const beforeAgainCpu: number[] = [];
  const tetherAgainCpu: number[] = [];
  const gitDir = join(work, 'git');
  const env = { ...process.env, GIT_DIR: join(gitDir, '.git'), GIT_WORK_TREE: tree };
  must(['git', 'init', '-q', gitDir]);
  must(['git', 'add', '-A'], { env, cwd: tree });
  const rounds: { seconds: number; read: number; changed: number; git: number }[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const changed = mutateTree(tree, paths, { fraction: 0.01, pool, seed: 100 + i });
    let again: Timed | undefined;
    for (const build of buildsInRun(i)) {
      if (build === 'this') {
        again = tether(['snapshot', 'take', `v${i}`, '--of', tree, '--store', store, '--json']);
      } else {
        const t = before(['snapshot', 'take', `v${i}`, '--of', tree, '--store', storeBefore]);
        beforeAgain.push(t.seconds);
        beforeAgainCpu.push(t.cpuSeconds);
      }
    }
    if (again === undefined) throw new Error('this build was not run');
    tetherAgainCpu.push(again.cpuSeconds);
    const gitAgain =
      must(['git', 'add', '-A'], { env, cwd: tree }).seconds +
      must(['git', 'write-tree'], { env, cwd: tree }).seconds;
    const info = JSON.parse(again.stdout) as { hashedFiles: number };
    rounds.push({
      seconds: again.seconds,
      read: info.hashedFiles,
      changed: changed.length,
      git: gitAgain,
    });
  }
  const reSeconds = median(rounds.map((r) => r.seconds));
  const gitAgain = median(rounds.map((r) => r.git));
  const read = median(rounds.map((r) => r.read));
  console.log(
    `re-snapshot after ${rounds[0]!.changed} files changed (median of ${RUNS} rounds): ` +
      `${reSeconds.toFixed(3)} s (${read} files read; rounds ${rounds.map((r) => r.seconds.toFixed(3)).join(', ')}); ` +
      `git add -A && git write-tree again: ${gitAgain.toFixed(3)} s`,
  );
  const ratio = first / git;
  const re = reSeconds / first;
  console.log(
    `tether / git = ${ratio.toFixed(2)} (target <= 0.5); re-snapshot / first = ${re.toFixed(3)} (target <= 0.10)`,
  );
  const vsBefore =
    BEFORE === undefined
      ? {}
      : {
          beforeColdSeconds: round3(median(beforeCold)),
          coldShareOfBefore: round3(first / median(beforeCold)),
          beforeResnapshotSeconds: round3(median(beforeAgain)),
          resnapshotShareOfBefore: round3(reSeconds / median(beforeAgain)),
          coldCpuSeconds: round3(median(tetherColdCpu)),
          beforeColdCpuSeconds: round3(median(beforeColdCpu)),
          resnapshotCpuSeconds: round3(median(tetherAgainCpu)),
          beforeResnapshotCpuSeconds: round3(median(beforeAgainCpu)),
        };
  if (BEFORE !== undefined) {
    console.log(
      `before (${BEFORE}): cold ${vsBefore.beforeColdSeconds} s, re-snapshot ${vsBefore.beforeResnapshotSeconds} s; ` +
        `this build / before: cold ${vsBefore.coldShareOfBefore}, re-snapshot ${vsBefore.resnapshotShareOfBefore}; ` +
        `CPU this build / before: cold ${vsBefore.coldCpuSeconds} / ${vsBefore.beforeColdCpuSeconds} s, ` +
        `re-snapshot ${vsBefore.resnapshotCpuSeconds} / ${vsBefore.beforeResnapshotCpuSeconds} s`,
    );
  }
  console.log(
    JSON.stringify({
      ...vsBefore,
      bench: 'snapshot',
      files: FILES,
      megabytes: MB,
      tetherColdSeconds: round3(first),
      gitColdSeconds: round3(git),
      ratioToGit: round3(ratio),
      resnapshotSeconds: round3(reSeconds),
      resnapshotFilesRead: read,
      resnapshotShare: round3(re),
      gitResnapshotSeconds: round3(gitAgain),
      met: ratio <= 0.5 && re <= 0.1,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Benchmark (issue 13, Performance): snapshot of a mounted 20,000-file / ~200 MB volume after
// 100 files changed (offline), against two peers on a plain copy of the same tree with the
// same 100 changes, in the same run: a directory snapshot (`tether snapshot take --of DIR`,
// incremental through its scan cache) and `git add -A && git write-tree` (an index that has
// the previous state). All three are warm: each has seen the previous state. Timed: each whole
// command (wall), and for the volume also the daemon's own time (its JSON `ms`). Then restore
// of the last directory snapshot (20,000 files, every content in its store) to a new
// directory against `cp -a` of the plain copy.
//
// Every call into the mount runs in a child with a deadline. Sizes: BENCH_FILES (20000),
// BENCH_MB (200), BENCH_CHANGES (100), BENCH_RUNS (3). Last line: JSON.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32, mutateTree } from './lib/gentree.js';
import { envInt, median, must, round3, tether, TETHER } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const CHANGES = envInt('BENCH_CHANGES', 100);
const RUNS = envInt('BENCH_RUNS', 3);

const work = mkdtempSync(join(tmpdir(), 'tether-bench-volsnap-'));
const remote = join(work, 'remote');
const plain = join(work, 'plain');
const mnt = join(work, 'mnt');
const store = join(work, 'store');
const dirStore = join(work, 'dir-store');
const QUIET = { ...process.env, TETHER_PULL_MS: '600000' };

/** A shell command that may go into the mount: a child with a deadline. */
function inMount(script: string, timeoutMs = 600_000): void {
  const r = spawnSync('sh', ['-c', script], { stdio: 'ignore', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${script.slice(0, 200)}: exit ${String(r.status)}`);
}

/** The daemon's phases (ms), as "wait 0.1, compose 3.2, …". */
const phasesOf = (p: Record<string, number>): string =>
  Object.entries(p)
    .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
    .join(', ');

interface Round {
  volume: number;
  daemonMs: number;
  read: number;
  dir: number;
  git: number;
}

let mounted = false;
try {
  console.log(`generating ${FILES} files / ~${MB} MB`);
  const pool = makePool(16 * 1024 * 1024, mulberry32(11));
  const paths = generateTree(remote, { files: FILES, totalBytes: MB * 1024 * 1024, pool });
  must(['cp', '-a', remote, plain]);
  mkdirSync(mnt);
  tether(['mount', remote, mnt, '--store', store], { env: QUIET });
  mounted = true;
  // Unchanged files stay remote-only: a volume snapshot never reads them either way (fetching
  // 200 MB through the mount first would only make the run longer). Offline: no flushes.
  tether(['offline', mnt]);
  const first = JSON.parse(tether(['snapshot', 'take', 'v0', mnt, '--json']).stdout) as {
    ms: number;
  };
  console.log(
    `first volume snapshot (after the mount: one scan): ${(first.ms / 1000).toFixed(3)} s`,
  );
  tether(['snapshot', 'take', 'p0', '--of', plain, '--store', dirStore]);
  const env = { ...process.env, GIT_DIR: join(work, 'git', '.git'), GIT_WORK_TREE: plain };
  must(['git', 'init', '-q', join(work, 'git')]);
  must(['git', 'add', '-A'], { env, cwd: plain });

  const rounds: Round[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const changed = mutateTree(plain, paths, {
      fraction: CHANGES / FILES,
      pool,
      seed: 100 + i,
    });
    inMount(`cd '${plain}' && cp --parents ${changed.join(' ')} '${mnt}/'`);
    const v = tether(['snapshot', 'take', `v${i}`, mnt, '--json']);
    const info = JSON.parse(v.stdout) as {
      ms: number;
      hashedFiles: number;
      reused?: boolean;
      phases: Record<string, number>;
    };
    const d = tether(['snapshot', 'take', `p${i}`, '--of', plain, '--store', dirStore]);
    const git =
      must(['git', 'add', '-A'], { env, cwd: plain }).seconds +
      must(['git', 'write-tree'], { env, cwd: plain }).seconds;
    rounds.push({
      volume: v.seconds,
      daemonMs: info.ms,
      read: info.hashedFiles,
      dir: d.seconds,
      git,
    });
    console.log(
      `round ${i}: ${changed.length} changed; volume ${v.seconds.toFixed(3)} s ` +
        `(daemon ${info.ms.toFixed(1)} ms: ${phasesOf(info.phases)}; ${info.hashedFiles} read` +
        `${info.reused === true ? ', reused the background compose' : ''}), ` +
        `directory snapshot ` +
        `${d.seconds.toFixed(3)} s, git ${git.toFixed(3)} s`,
    );
  }
  const volume = median(rounds.map((r) => r.volume));
  const daemon = median(rounds.map((r) => r.daemonMs)) / 1000;
  const dir = median(rounds.map((r) => r.dir));
  const git = median(rounds.map((r) => r.git));

  // Restore needs every content in the store: the directory snapshot has them all.
  const restore = tether([
    'snapshot',
    'restore',
    `p${RUNS}`,
    join(work, 'restored'),
    '--store',
    dirStore,
  ]);
  const cp = must(['cp', '-a', plain, join(work, 'copied')]);
  console.log(
    `volume snapshot ${volume.toFixed(3)} s (daemon ${daemon.toFixed(3)} s) vs directory ` +
      `snapshot ${dir.toFixed(3)} s (ratio ${(volume / dir).toFixed(3)}) vs git ${git.toFixed(3)} s ` +
      `(ratio ${(volume / git).toFixed(3)}, daemon ${(daemon / git).toFixed(3)}; target daemon <= 0.1 s and <= 0.10 of git)`,
  );
  console.log(
    `restore ${restore.seconds.toFixed(3)} s vs cp -a ${cp.seconds.toFixed(3)} s ` +
      `(ratio ${(restore.seconds / cp.seconds).toFixed(2)}; target <= 1)`,
  );
  console.log(
    JSON.stringify({
      bench: 'volume-snapshot',
      files: FILES,
      megabytes: MB,
      changes: CHANGES,
      volumeSeconds: round3(volume),
      daemonSeconds: round3(daemon),
      filesRead: median(rounds.map((r) => r.read)),
      dirSnapshotSeconds: round3(dir),
      gitSeconds: round3(git),
      ratioToDirSnapshot: round3(volume / dir),
      ratioToGit: round3(volume / git),
      daemonRatioToGit: round3(daemon / git),
      restoreSeconds: round3(restore.seconds),
      cpSeconds: round3(cp.seconds),
      restoreRatioToCp: round3(restore.seconds / cp.seconds),
      met: daemon <= 0.1 && daemon / git <= 0.1 && restore.seconds <= cp.seconds,
    }),
  );
} finally {
  if (mounted) {
    const u = spawnSync(process.execPath, [TETHER, 'unmount', mnt], {
      stdio: 'inherit',
      timeout: 120_000,
    });
    if (u.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
  }
  rmSync(work, { recursive: true, force: true });
}

// Benchmark (issue 2): `tether diff A B` of two snapshots of a 1,000,000-file tree that
// differ in 100 files — the whole command, process start to exit — against
// `git diff-tree -r` on two commits of the same structure (built with git fast-import).
// Layout: 100 × 100 directories of 100 files. Sizes: BENCH_ENTRIES (1000000), BENCH_CHANGES
// (100), BENCH_RUNS (5, median). Last line: JSON.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffTrees } from '../src/merge/diff.js';
import { Store } from '../src/store/store.js';
import { hashBytes, type Entry, type Hash } from '../src/tree/index.js';
import { mulberry32 } from './lib/gentree.js';
import { envInt, median, must, round3, tether } from './lib/run.js';

const ENTRIES = envInt('BENCH_ENTRIES', 1_000_000);
const CHANGES = envInt('BENCH_CHANGES', 100);
const RUNS = envInt('BENCH_RUNS', 5);
const FAN = 100;
const PER_DIR = Math.max(1, Math.ceil(ENTRIES / (FAN * FAN)));
const BLOBS = 1000;

const name = (prefix: string, i: number): string => `${prefix}${String(i).padStart(3, '0')}`;
const T = 1_700_000_000_000_000_000n;

/** The changed files: (top, sub, file) triples, the same for tether and git. */
function changes(): Set<string> {
  const rnd = mulberry32(9);
  const out = new Set<string>();
  while (out.size < CHANGES) {
    const a = Math.floor(rnd() * FAN);
    const b = Math.floor(rnd() * FAN);
    const c = Math.floor(rnd() * PER_DIR);
    out.add(`${name('d', a)}/${name('s', b)}/${name('f', c)}`);
  }
  return out;
}

function blobIds(): Hash[] {
  return Array.from({ length: BLOBS }, (_, i) => hashBytes(Buffer.from(`content ${i}\n`)));
}

function buildTether(store: Store, changed: Set<string> | undefined, ids: Hash[]): Hash {
  const top: Entry[] = [];
  for (let a = 0; a < FAN; a++) {
    const subs: Entry[] = [];
    for (let b = 0; b < FAN; b++) {
      const files: Entry[] = [];
      for (let c = 0; c < PER_DIR; c++) {
        const path = `${name('d', a)}/${name('s', b)}/${name('f', c)}`;
        const edited = changed?.has(path) === true;
        const i = (a * FAN + b) * PER_DIR + c;
        files.push({
          name: name('f', c),
          kind: 'file',
          mode: 0o644,
          uid: 0,
          gid: 0,
          size: 12,
          mtimeNs: edited ? T + 1_000_000_000n : T,
          id: edited ? hashBytes(Buffer.from(`edited ${path}\n`)) : ids[i % BLOBS]!,
        });
      }
      subs.push(dirEntry(name('s', b), store.putTree(files)));
    }
    top.push(dirEntry(name('d', a), store.putTree(subs)));
  }
  return store.putTree(top);
}

function dirEntry(n: string, id: Hash): Entry {
  return { name: n, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: T, id };
}

/** Two commits through git fast-import; returns their ids. */
async function buildGit(gitDir: string, changed: Set<string>): Promise<[string, string]> {
  must(['git', 'init', '-q', '--bare', gitDir]);
  const child = spawn('git', ['--git-dir', gitDir, 'fast-import', '--quiet'], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const chunks: string[] = [];
  let size = 0;
  const write = async (s: string): Promise<void> => {
    chunks.push(s);
    size += s.length;
    if (size > 1 << 20) {
      const ok = child.stdin.write(chunks.join(''));
      chunks.length = 0;
      size = 0;
      if (!ok) await new Promise((r) => child.stdin.once('drain', r));
    }
  };
  for (let i = 0; i < BLOBS; i++) {
    const data = `content ${i}\n`;
    await write(`blob\nmark :${i + 1}\ndata ${Buffer.byteLength(data)}\n${data}\n`);
  }
  const commit = async (mark: number, from: number | undefined, lines: () => Promise<void>) => {
    await write(
      `commit refs/heads/main\nmark :${mark}\ncommitter b <b@example.com> 1700000000 +0000\ndata 1\nx\n`,
    );
    if (from !== undefined) await write(`from :${from}\n`);
    await lines();
    await write('\n');
  };
  const A = BLOBS + 1;
  const B = BLOBS + 2;
  await commit(A, undefined, async () => {
    for (let a = 0; a < FAN; a++)
      for (let b = 0; b < FAN; b++)
        for (let c = 0; c < PER_DIR; c++) {
          const i = (a * FAN + b) * PER_DIR + c;
          await write(
            `M 100644 :${(i % BLOBS) + 1} ${name('d', a)}/${name('s', b)}/${name('f', c)}\n`,
          );
        }
  });
  await commit(B, A, async () => {
    for (const p of changed) {
      const data = `edited ${p}\n`;
      await write(`M 100644 inline ${p}\ndata ${Buffer.byteLength(data)}\n${data}\n`);
    }
  });
  child.stdin.end(chunks.join(''));
  await new Promise((r) => child.on('exit', r));
  const rev = (ref: string): string =>
    must(['git', '--git-dir', gitDir, 'rev-parse', ref]).stdout.trim();
  return [rev('main~1'), rev('main')];
}

const work = mkdtempSync(join(tmpdir(), 'tether-bench-diff-'));
try {
  const changed = changes();
  const ids = blobIds();
  const storeDir = join(work, 'store');
  let t = performance.now();
  const store = await Store.create(storeDir);
  const a = buildTether(store, undefined, ids);
  const b = buildTether(store, changed, ids);
  await store.setRef('snap/a', a);
  await store.setRef('snap/b', b);
  await store.close();
  console.log(
    `tether: two ${FAN * FAN * PER_DIR}-file snapshots built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  t = performance.now();
  const gitDir = join(work, 'git');
  const [ga, gb] = await buildGit(gitDir, changed);
  console.log(`git: two commits built in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const ours: number[] = [];
  const theirs: number[] = [];
  let lines = 0;
  for (let r = 0; r < RUNS; r++) {
    const d = tether(['diff', 'a', 'b', '--store', storeDir], {}, [1]);
    ours.push(d.seconds);
    lines = d.stdout.trim().split('\n').length;
    const g = must(['git', '--git-dir', gitDir, 'diff-tree', '-r', ga, gb]);
    theirs.push(g.seconds);
    if (g.stdout.trim().split('\n').length !== CHANGES) throw new Error('git saw another diff');
  }
  if (lines !== CHANGES) throw new Error(`tether printed ${lines} changes, expected ${CHANGES}`);
  // The algorithm alone, in one process (no start-up): open the store, diff, close.
  const inProcess: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const s = await Store.open(storeDir, { readOnly: true });
    const n = diffTrees(s, a, b).length;
    inProcess.push((performance.now() - t0) / 1000);
    await s.close();
    if (n !== CHANGES) throw new Error(`diffTrees found ${n} changes`);
  }
  const algo = median(inProcess);
  console.log(`tether diff in process (store open + diff): ${(algo * 1000).toFixed(1)} ms`);
  const mine = median(ours);
  const git = median(theirs);
  console.log(
    `tether diff: ${mine.toFixed(3)} s; git diff-tree -r: ${git.toFixed(3)} s; ratio ${(mine / git).toFixed(2)}`,
  );
  console.log(
    JSON.stringify({
      bench: 'diff',
      entries: FAN * FAN * PER_DIR,
      changes: CHANGES,
      tetherSeconds: round3(mine),
      gitSeconds: round3(git),
      ratio: round3(mine / git),
      inProcessSeconds: round3(algo),
      met: mine < 1 && mine <= git,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Benchmark (issue 16 item 8): what running sync-dirs through the remote agent costs on local
// directories, against the in-process run sync-dirs makes there (and made everywhere before),
// in the same run on the same machine. One generated tree (BENCH_FILES, default 20,000 files;
// BENCH_MB, default 100) is copied into two identical local replicas A, each with an empty
// server directory B; each pair is synced one way: first sync (--initial, fills B), then a
// second after BENCH_CHANGES edits on each side, then a third with nothing changed. The two
// ways alternate in each step, so neither always runs on a warm cache. The agent's figures
// include starting its two processes (the run's agent and the heartbeat's).
// The last line printed is one JSON summary.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Store } from '../src/store/store.js';
import { runSyncDirs } from '../src/sync/sync-dirs.js';
import { syncDirsByAgent } from '../src/agent/sync-dirs-agent.js';
import { deadlinesFromEnv } from '../src/agent/deadlines.js';
import { generateTree, makePool, mulberry32, mutateTree } from './lib/gentree.js';
import { envInt, round3, TETHER } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 100);
const CHANGES = envInt('BENCH_CHANGES', 100);

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly store: string;
}

type Way = 'in-process' | 'agent';

async function syncOnce(way: Way, p: Pair, initial: boolean): Promise<number> {
  const t0 = performance.now();
  if (way === 'in-process') {
    const store = await Store.openOrCreate(p.store);
    try {
      const s = await runSyncDirs(store, p.a, p.b, { initial });
      if (s.failures.length > 0) throw new Error(`in-process run failed: ${s.failures[0]?.reason}`);
    } finally {
      await store.close();
    }
  } else {
    const s = await syncDirsByAgent(
      { storeDir: p.store, local: p.a, server: p.b, dryRun: false, initial, strict: false },
      undefined,
      deadlinesFromEnv(),
      { command: process.execPath, args: [TETHER, '__agent'] },
    );
    if (s.failures.length > 0) throw new Error(`agent run failed: ${s.failures[0]?.reason}`);
  }
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-agent-'));
  try {
    const tree = join(work, 'tree');
    const pool = makePool(4 << 20, mulberry32(7));
    const paths = generateTree(tree, { files: FILES, totalBytes: MB << 20, pool });
    const pairs: Record<Way, Pair> = {
      'in-process': { a: join(work, 'p-A'), b: join(work, 'p-B'), store: join(work, 'p-S') },
      agent: { a: join(work, 'q-A'), b: join(work, 'q-B'), store: join(work, 'q-S') },
    };
    for (const p of Object.values(pairs)) {
      cpSync(tree, p.a, { recursive: true, preserveTimestamps: true });
      mkdirSync(p.b);
    }
    const times: Record<string, Record<Way, number>> = {};
    const step = async (name: string, order: Way[], initial = false): Promise<void> => {
      const row = {} as Record<Way, number>;
      for (const way of order) row[way] = round3(await syncOnce(way, pairs[way], initial));
      times[name] = row;
      console.log(`${name}: in-process ${row['in-process']} s, agent ${row.agent} s`);
    };
    await step('first', ['in-process', 'agent'], true);
    for (const p of Object.values(pairs)) {
      mutateTree(p.a, paths, { fraction: CHANGES / FILES, pool, seed: 11 });
      mutateTree(p.b, paths, { fraction: CHANGES / FILES, pool, seed: 23 });
    }
    await step('changed', ['agent', 'in-process']);
    await step('unchanged', ['in-process', 'agent']);
    console.log(JSON.stringify({ bench: 'sync-dirs-agent', files: FILES, mb: MB, times }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

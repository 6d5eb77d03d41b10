// Benchmark (issue 16 item 1): a volume's first scan of the server made by the remote agent,
// two ways, against the scan made in the daemon's own process (as before), in the same run on
// the same tree: the whole scan as one agent call watched by the heartbeat (what a first
// mount does: RemoteIo.firstScan), and the scan made in this process through the agent's
// Lister (one agent call per directory, symlink and xattr read: agent/lister.ts). Each scan
// is by stamps into a fresh store; the agent's figures include starting its processes.
// Sizes: BENCH_FILES (20000), BENCH_MB (20; no content is read), BENCH_ROUNDS (3; the ways
// rotate their order each round; medians reported), BENCH_DIR (where the work directory is
// made). The last line printed is one JSON summary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AgentClient } from '../src/agent/client.js';
import { agentLister } from '../src/agent/lister.js';
import { scanReplica } from '../src/scan/scan-replica.js';
import { Store } from '../src/store/store.js';
import { deadlinesFromEnv } from '../src/agent/deadlines.js';
import { RemoteIo } from '../src/volume/remote-io.js';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, round3, TETHER } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 20);
const ROUNDS = Math.max(1, envInt('BENCH_ROUNDS', 3));
const AGENT = { command: process.execPath, args: [TETHER, '__agent'] };

type Way = 'in-process' | 'agent-whole' | 'agent-lister';
const WAYS: readonly Way[] = ['in-process', 'agent-whole', 'agent-lister'];

async function scanOnce(way: Way, tree: string, storeDir: string): Promise<number> {
  const t0 = performance.now();
  const store = await Store.openOrCreate(storeDir);
  try {
    if (way === 'in-process') {
      await scanReplica(store, tree, { content: 'stamp' });
    } else if (way === 'agent-whole') {
      const io = new RemoteIo(storeDir, tree, join(storeDir, 'local'), undefined, AGENT);
      try {
        await io.firstScan();
      } finally {
        io.close();
      }
    } else {
      const agent = new AgentClient(AGENT);
      try {
        const d = deadlinesFromEnv();
        const lister = agentLister(agent, tree, { metaMs: d.metaMs, hashMs: d.idleMs });
        await scanReplica(store, tree, { content: 'stamp', lister });
      } finally {
        agent.close();
      }
    }
  } finally {
    await store.close();
  }
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-first-scan-'));
  try {
    const tree = join(work, 'tree');
    generateTree(tree, {
      files: FILES,
      totalBytes: MB << 20,
      pool: makePool(4 << 20, mulberry32(7)),
    });
    const times: Record<Way, number[]> = {
      'in-process': [],
      'agent-whole': [],
      'agent-lister': [],
    };
    for (let r = 0; r < ROUNDS; r++) {
      const order = [...WAYS.slice(r % WAYS.length), ...WAYS.slice(0, r % WAYS.length)];
      for (const way of order) {
        const s = await scanOnce(way, tree, join(work, `S-${way}-${r}`));
        times[way].push(s);
        console.log(`round ${r + 1}: ${way} ${round3(s)} s`);
      }
    }
    const med = Object.fromEntries(WAYS.map((w) => [w, round3(median(times[w]))])) as Record<
      Way,
      number
    >;
    const ratio = (w: Way): number => round3(med[w] / med['in-process']);
    console.log(
      JSON.stringify({
        bench: 'first-scan',
        files: FILES,
        rounds: ROUNDS,
        seconds: med,
        vsInProcess: { 'agent-whole': ratio('agent-whole'), 'agent-lister': ratio('agent-lister') },
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

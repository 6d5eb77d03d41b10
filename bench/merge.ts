// Micro-benchmark of the three-way merge: two sides of a 1,000,000-entry tree with 1,000
// changes each (edits, creates, deletes; some paths changed on both sides). Target: under a
// second. The peer, run in the same process on the same trees, is what a tool without Merkle
// trees must do at the least: list all three trees and compare them path by path.
//
//   MERGE_BENCH_ENTRIES (default 1000000)   files in the tree (100 × 100 × n layout)
//   MERGE_BENCH_CHANGES (default 1000)      changes per side
//   MERGE_BENCH_OVERLAP (default 0.1)       share of server changes on paths local changed
//   MERGE_BENCH_RUNS    (default 5)         timed merges (the median is reported)
import { merge } from '../src/merge/merge.js';
import { MemoryStore } from '../src/store/memory.js';
import { mulberry32 } from './lib/gentree.js';
import {
  hashBytes,
  joinPath,
  type Entry,
  type Hash,
  type Tree,
  type TreeReader,
} from '../src/tree/index.js';

const ENTRIES = Number(process.env.MERGE_BENCH_ENTRIES ?? 1_000_000);
const CHANGES = Number(process.env.MERGE_BENCH_CHANGES ?? 1_000);
const OVERLAP = Number(process.env.MERGE_BENCH_OVERLAP ?? 0.1);
const RUNS = Number(process.env.MERGE_BENCH_RUNS ?? 5);

const FAN = 100;
const PER_LEAF = Math.max(1, Math.ceil(ENTRIES / (FAN * FAN)));

// Trees are kept as their encodings and verified and decoded on each read, as the store
// does: a reader handing out ready-made listings would make decoding free, which it is not.
class MapReader implements TreeReader {
  private readonly store = new MemoryStore();
  readonly skims = this.store.skims;
  readTree(id: Hash): Tree {
    return this.store.readTree(id);
  }
  treeBytes(id: Hash): Buffer {
    return this.store.treeBytes(id);
  }
  put(tree: Tree): Hash {
    return this.store.putTree(tree);
  }
}

const rng = mulberry32;

const pad = (n: number): string => n.toString().padStart(4, '0');
const fileEntry = (name: string, content: string): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 1000,
  gid: 1000,
  size: content.length,
  mtimeNs: 1_700_000_000_000_000_000n,
  id: hashBytes(Buffer.from(content)),
});
const dirEntry = (name: string, id: Hash): Entry => ({
  name,
  kind: 'dir',
  mode: 0o755,
  uid: 1000,
  gid: 1000,
  size: 0,
  mtimeNs: 1_700_000_000_000_000_000n,
  id,
});

type Change = { op: 'edit' | 'delete' | 'add'; i: number; j: number; k: number; content: string };

/** Leaf listings of the base, built once; sides copy only the listings they change. */
function baseLeaves(): Entry[][][] {
  const leaves: Entry[][][] = [];
  for (let i = 0; i < FAN; i++) {
    const row: Entry[][] = [];
    for (let j = 0; j < FAN; j++) {
      const list: Entry[] = [];
      for (let k = 0; k < PER_LEAF; k++) list.push(fileEntry(`f${pad(k)}`, `${i}/${j}/${k}`));
      row.push(list);
    }
    leaves.push(row);
  }
  return leaves;
}

function buildRoot(reader: MapReader, leaves: Entry[][][], changes: readonly Change[]): Hash {
  const touched = new Map<string, Entry[]>();
  for (const c of changes) {
    const key = `${c.i}/${c.j}`;
    let list = touched.get(key);
    if (list === undefined) touched.set(key, (list = [...leaves[c.i]![c.j]!]));
    const name = c.op === 'add' ? `n${pad(c.k)}` : `f${pad(c.k)}`;
    const at = list.findIndex((e) => e.name === name);
    if (c.op === 'delete') {
      if (at >= 0) list.splice(at, 1);
    } else if (at >= 0) list[at] = fileEntry(name, c.content);
    else list.push(fileEntry(name, c.content));
  }
  const top: Entry[] = [];
  for (let i = 0; i < FAN; i++) {
    const subs: Entry[] = [];
    for (let j = 0; j < FAN; j++) {
      const list = touched.get(`${i}/${j}`) ?? leaves[i]![j]!;
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      subs.push(dirEntry(`d${pad(j)}`, reader.put(list)));
    }
    top.push(dirEntry(`d${pad(i)}`, reader.put(subs)));
  }
  return reader.put(top);
}

function randomChanges(
  rand: () => number,
  n: number,
  tag: string,
  reuse: readonly Change[],
): Change[] {
  const out: Change[] = [];
  const seen = new Set<string>();
  for (let x = 0; out.length < n; x++) {
    const r = rand();
    const shared = reuse.length > 0 && rand() < OVERLAP;
    const from = shared ? reuse[Math.floor(rand() * reuse.length)]! : undefined;
    const c: Change = {
      op: from?.op ?? (r < 0.8 ? 'edit' : r < 0.9 ? 'delete' : 'add'),
      i: from?.i ?? Math.floor(rand() * FAN),
      j: from?.j ?? Math.floor(rand() * FAN),
      k: from?.k ?? Math.floor(rand() * PER_LEAF),
      content: `${tag}-${x}`,
    };
    const key = `${c.op === 'add' ? 'n' : 'f'}${c.i}/${c.j}/${c.k}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** The peer: list every path of the three trees and compare them one by one. */
function naiveCompare(reader: TreeReader, roots: readonly Hash[]): number {
  const flat = roots.map((root) => {
    const m = new Map<string, Entry>();
    const walk = (dir: string, id: Hash): void => {
      for (const e of reader.readTree(id)) {
        const p = joinPath(dir, e.name);
        m.set(p, e);
        if (e.kind === 'dir' && e.id !== undefined) walk(p, e.id);
      }
    };
    walk('', root);
    return m;
  });
  const [b, l, s] = flat as [Map<string, Entry>, Map<string, Entry>, Map<string, Entry>];
  let changed = 0;
  for (const p of new Set([...b.keys(), ...l.keys(), ...s.keys()])) {
    if (b.get(p)?.id !== l.get(p)?.id || b.get(p)?.id !== s.get(p)?.id) changed++;
  }
  return changed;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const t0 = performance.now();
  const reader = new MapReader();
  const leaves = baseLeaves();
  const rand = rng(42);
  const localChanges = randomChanges(rand, CHANGES, 'l', []);
  const serverChanges = randomChanges(rand, CHANGES, 's', localChanges);
  const base = buildRoot(reader, leaves, []);
  const local = buildRoot(reader, leaves, localChanges);
  const server = buildRoot(reader, leaves, serverChanges);
  const buildMs = performance.now() - t0;
  const entries = FAN + FAN * FAN + FAN * FAN * PER_LEAF;
  console.log(
    `trees: ${entries} entries each (${FAN}×${FAN}×${PER_LEAF}), ${CHANGES} changes per side; built in ${(buildMs / 1000).toFixed(1)} s`,
  );

  const now = new Date('2026-01-01T00:00:00Z');
  const times: number[] = [];
  let plan = merge(reader, base, local, server, { now });
  for (let r = 0; r < RUNS; r++) {
    const s = performance.now();
    plan = merge(reader, base, local, server, { now });
    times.push(performance.now() - s);
  }
  const mergeMs = median(times);
  const conflicts = plan.conflicts.filter((c) => !c.informational).length;
  console.log(
    `merge: ${mergeMs.toFixed(1)} ms (median of ${RUNS}), ${plan.actions.length} actions, ${conflicts} conflicts, ${plan.conflicts.length - conflicts} informational records`,
  );

  const ps = performance.now();
  const naiveChanged = naiveCompare(reader, [base, local, server]);
  const naiveMs = performance.now() - ps;
  console.log(
    `peer (flat compare of all paths): ${naiveMs.toFixed(1)} ms, ${naiveChanged} paths differ`,
  );
  console.log(`ratio merge / peer: ${(mergeMs / naiveMs).toFixed(4)}`);
  console.log(
    JSON.stringify({
      bench: 'merge',
      entries,
      changesPerSide: CHANGES,
      mergeMs: Number(mergeMs.toFixed(1)),
      peerMs: Number(naiveMs.toFixed(1)),
      ratio: Number((mergeMs / naiveMs).toFixed(4)),
      actions: plan.actions.length,
      conflicts,
      targetMs: 1000,
      met: mergeMs < 1000,
    }),
  );
}

main();

// Benchmark: the structural walk of a store's LMDB file (lmdb-trees.ts), on a store of
// BENCH_ENTRIES (100,000) records across four named databases, a tenth of them big enough for
// overflow pages: in full, as fsck runs it, and as every open runs it (in a file this big, the
// branch pages and the main database only). Peers in the same run: LMDB itself reading every
// record of the same databases through lmdb-js (a cursor over each, every value touched), and
// a whole `tether snapshot list` on the store (what a user waits for; it pays the open's walk
// once). Medians of BENCH_RUNS (5). BENCH_KEEP=1 keeps the store. Last line: JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { checkLmdbTrees } from '../src/store/lmdb-trees.js';
import { Store } from '../src/store/store.js';
import { mulberry32 } from './lib/gentree.js';
import { envInt, median, round3, tether } from './lib/run.js';

const ENTRIES = envInt('BENCH_ENTRIES', 100_000);
const RUNS = envInt('BENCH_RUNS', 5);
const DBS = ['u:bench-a', 'u:bench-b', 'u:bench-c', 'u:bench-d'];

const seconds = (f: () => unknown): number => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

const work = mkdtempSync(join(tmpdir(), 'tether-bench-walk-'));
try {
  const dir = join(work, 'store');
  await (await Store.create(dir)).close();
  const env = open({ path: join(dir, 'db'), maxDbs: 64, mapSize: 2 ** 34 });
  const rnd = mulberry32(7);
  const dbs = DBS.map((name) =>
    env.openDB<Buffer, Buffer>(name, { keyEncoding: 'binary', encoding: 'binary' }),
  );
  const batch = 5000;
  for (let done = 0; done < ENTRIES; done += batch) {
    await env.transaction(() => {
      for (let i = done; i < Math.min(ENTRIES, done + batch); i++) {
        const key = Buffer.alloc(32);
        for (let k = 0; k < 32; k += 4) key.writeUInt32BE(Math.floor(rnd() * 2 ** 32), k);
        const size =
          rnd() < 0.9 ? 100 + Math.floor(rnd() * 1400) : 2048 + Math.floor(rnd() * 60_000);
        void dbs[i % dbs.length]!.put(key, Buffer.alloc(size, i & 0xff));
      }
    });
  }
  await env.close();

  let pages = 0;
  const walk: number[] = [];
  const atOpen: number[] = [];
  const lmdb: number[] = [];
  const list: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    walk.push(seconds(() => (pages = checkLmdbTrees(dir, 'full'))));
    atOpen.push(seconds(() => checkLmdbTrees(dir, 'open')));
    const reader = open({ path: join(dir, 'db'), maxDbs: 64, readOnly: true });
    lmdb.push(
      seconds(() => {
        let bytes = 0;
        for (const name of DBS) {
          const db = reader.openDB<Buffer, Buffer>(name, {
            keyEncoding: 'binary',
            encoding: 'binary',
          });
          for (const { value } of db.getRange()) bytes += value.length;
        }
        return bytes;
      }),
    );
    await reader.close();
    list.push(tether(['snapshot', 'list', '--store', dir]).seconds);
  }
  const w = median(walk);
  const l = median(lmdb);
  const c = median(list);
  const o = median(atOpen);
  console.log(`${ENTRIES} records, ${pages} pages walked`);
  console.log(
    `walk ${round3(w)} s; LMDB reading every record ${round3(l)} s (walk/read ${round3(w / l)})`,
  );
  console.log(`tether snapshot list ${round3(c)} s (full walk/command ${round3(w / c)})`);
  console.log(`walk at open ${round3(o)} s (open walk/command ${round3(o / c)})`);
  console.log(
    JSON.stringify({
      entries: ENTRIES,
      pages,
      walk: w,
      lmdbRead: l,
      command: c,
      walkPerRead: w / l,
      walkPerCommand: w / c,
      openWalk: o,
      openWalkPerCommand: o / c,
    }),
  );
} finally {
  if (process.env['BENCH_KEEP'] === undefined) rmSync(work, { recursive: true, force: true });
  else console.log(work);
}

// Benchmark (issue 2): hashing throughput on one big file, against BLAKE3 alone on the same
// bytes in memory (the same native library, one call per 1 MiB, so no I/O at all). Ours is
// what a scan does with a file: read it and hash it (the sync scan's path), and read, hash and
// store it (the snapshot's path, which also writes the copy into the store). Size: BENCH_MB
// (1024). Runs: BENCH_RUNS (3, median). Last line: JSON.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { Store } from '../src/store/store.js';
import { hashFile } from '../src/scan/fs-entry.js';
import { makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, round3 } from './lib/run.js';

const MB = envInt('BENCH_MB', 1024);
const RUNS = envInt('BENCH_RUNS', 3);
const CHUNK = 1 << 20;

const work = mkdtempSync(join(tmpdir(), 'tether-bench-hash-'));
try {
  const data = Buffer.allocUnsafe(MB * CHUNK);
  const pool = makePool(64 * CHUNK, mulberry32(5));
  for (let off = 0; off < data.length; off += pool.length) pool.copy(data, off);
  data.writeUInt32LE(0xdeadbeef, 12345); // not periodic at the very start
  const file = join(work, 'big.bin');
  writeFileSync(file, data);

  const raw: number[] = [];
  const scan: number[] = [];
  const snap: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const h = new Blake3Hasher();
    for (let off = 0; off < data.length; off += CHUNK) h.update(data.subarray(off, off + CHUNK));
    const want = h.digest('hex');
    raw.push((performance.now() - t) / 1000);

    t = performance.now();
    const got = await hashFile(Buffer.from(file));
    scan.push((performance.now() - t) / 1000);
    if (got !== want) throw new Error('hashFile disagrees with BLAKE3');

    const store = await Store.create(join(work, `store${r}`));
    t = performance.now();
    const put = await store.putBlobFile(file);
    await store.flush();
    snap.push((performance.now() - t) / 1000);
    await store.close();
    if (put.id !== want) throw new Error('putBlobFile disagrees with BLAKE3');
    rmSync(join(work, `store${r}`), { recursive: true, force: true });
  }
  const mbps = (s: number): number => MB / s;
  const rawR = mbps(median(raw));
  const scanR = mbps(median(scan));
  const snapR = mbps(median(snap));
  console.log(`BLAKE3 alone, in memory:  ${rawR.toFixed(0)} MB/s`);
  console.log(
    `read + hash (scan path):  ${scanR.toFixed(0)} MB/s = ${((100 * scanR) / rawR).toFixed(0)}% (target >= 70%)`,
  );
  console.log(
    `read + hash + store copy: ${snapR.toFixed(0)} MB/s = ${((100 * snapR) / rawR).toFixed(0)}%`,
  );
  console.log(
    JSON.stringify({
      bench: 'hash',
      megabytes: MB,
      blake3MBps: Math.round(rawR),
      scanMBps: Math.round(scanR),
      scanShare: round3(scanR / rawR),
      storeMBps: Math.round(snapR),
      storeShare: round3(snapR / rawR),
      met: scanR / rawR >= 0.7,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

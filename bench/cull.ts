// Benchmark (issue 16 item 5): culling a full cache. A volume with BENCH_FILES (1000) files of
// BENCH_KB (128) KiB, all fetched, is mounted again with a cache limit of a tenth of its use:
// the daemon evicts nearly every file at once (walk, plan, placeholders, base's ids forgotten,
// gc). Its time, from the `cache-pressure` event, against peers in the same run on a plain copy
// of the same tree: the same placeholder swap done by a bare loop (sparse file beside, fsync,
// rename), and `rm -r` of the files. BENCH_DIR (temp dir), BENCH_KEEP=1 keeps the work
// directory. The last line printed is one JSON summary.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envInt, must, round3, tether, timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 1000);
const KB = envInt('BENCH_KB', 128);
const DIRS = 10;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fill(root: string): void {
  for (let d = 0; d < DIRS; d++) mkdirSync(join(root, `d${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(root, `d${i % DIRS}`, `f${i}`), randomBytes(KB * 1024));
}

interface Pressure {
  type: string;
  evicted?: number;
  freedBytes?: number;
  ms?: number;
}

function events(mnt: string): Pressure[] {
  const r = tether(['events', mnt, '--json']);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Pressure);
}

/** The peer: what eviction does to each file, by a bare loop (no walk, no store). */
function swapLoop(root: string): number {
  const t0 = process.hrtime.bigint();
  for (const d of readdirSync(root)) {
    for (const f of readdirSync(join(root, d))) {
      const p = join(root, d, f);
      const st = statSync(p);
      const tmp = join(root, d, `.swap-${f}`);
      const fd = openSync(tmp, 'wx', st.mode & 0o7777);
      ftruncateSync(fd, st.size);
      fsyncSync(fd);
      fstatSync(fd);
      closeSync(fd);
      renameSync(tmp, p);
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-cull-'));
  const remote = join(work, 'remote');
  const mnt = join(work, 'mnt');
  const store = join(work, 'store');
  mkdirSync(mnt);
  fill(remote);
  try {
    tether(['mount', remote, mnt, '--store', store]);
    tether(['pin', '--recursive', mnt]);
    tether(['hoard', mnt, '--json'], {}, [0]);
    tether(['unpin', mnt]);
    await sleep(1500); // base learns the fetched files' ids
    const use = (
      JSON.parse(tether(['status', mnt, '--json']).stdout) as {
        cacheLimit: { automatic: number };
      }
    ).cacheLimit.automatic;
    tether(['unmount', mnt]);
    const limit = Math.max(1 << 20, Math.floor(use / 10));
    tether(['mount', remote, mnt, '--store', store, '--cache-size', String(limit)]);
    let culled: Pressure | undefined;
    for (let i = 0; i < 600 && culled === undefined; i++) {
      culled = events(mnt).find((e) => e.type === 'cache-pressure' && (e.evicted ?? 0) > 0);
      if (culled === undefined) await sleep(100);
    }
    if (culled === undefined) throw new Error('no cull within a minute');
    const after = (
      JSON.parse(tether(['status', mnt, '--json']).stdout) as {
        cacheLimit: { automatic: number };
      }
    ).cacheLimit.automatic;
    tether(['unmount', mnt]);

    const copy = join(work, 'copy');
    must(['cp', '-a', remote, copy]);
    const swap = swapLoop(copy);
    must(['cp', '-a', remote, join(work, 'copy2')]);
    spawnSync('sync');
    const rm = timed(['rm', '-r', join(work, 'copy2')]).seconds;
    const cullS = (culled.ms ?? 0) / 1000;
    console.log(
      `cull of ${culled.evicted} of ${FILES} files (${KB} KiB each), ${Math.round((culled.freedBytes ?? 0) / 1048576)} MiB freed: ` +
        `${round3(cullS)} s in the daemon; peers: placeholder swap loop ${round3(swap)} s, rm -r ${round3(rm)} s; ` +
        `use ${Math.round(use / 1048576)} MiB → ${Math.round(after / 1048576)} MiB (limit ${Math.round(limit / 1048576)} MiB)`,
    );
    console.log(
      JSON.stringify({
        files: FILES,
        kb: KB,
        evicted: culled.evicted,
        freedBytes: culled.freedBytes,
        cullSeconds: round3(cullS),
        swapLoopSeconds: round3(swap),
        rmSeconds: round3(rm),
        useBefore: use,
        useAfter: after,
        limit,
      }),
    );
  } finally {
    spawnSync('fusermount', ['-uz', mnt]);
    if (process.env['BENCH_KEEP'] !== '1') rmSync(work, { recursive: true, force: true });
  }
}

await main();

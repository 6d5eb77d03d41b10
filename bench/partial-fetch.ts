// Benchmark (issue 16, partial content): fetching one large file over a real sshfs share (an
// sshd on loopback) range by range, one range request at a time against several in flight, and
// `cp` of the same file from the same share, in the same run. Each tether fetch is a first open
// of a fresh placeholder (a new store per round, its agent warmed up by a small file; `head -c
// 1` opens the large one, so the time is its fetch's). Tether's fetch makes each 1 MiB range durable (fdatasync) before recording it; `cp`
// syncs nothing, so `cp + sync` is timed too.
//
// Sizes: BENCH_MB (256), BENCH_ROUNDS (3; medians are reported), BENCH_PARALLEL (4),
// BENCH_DIR (where the work directory is made; default the temp dir). The last line printed is
// one JSON summary.
import { spawnSync } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountedAt, processTree, sshfsArgs, startSshd } from '../test/sync/sshd.js';
import { envInt, median, must, round3, tether } from './lib/run.js';

const MB = envInt('BENCH_MB', 256);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const PARALLEL = envInt('BENCH_PARALLEL', 4);

async function writeRandom(path: string, mb: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < mb; i++) {
    if (!out.write(randomBytes(1 << 20))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** One first open of the file through a fresh mount with `parallel` range requests in flight. */
function fetchOnce(work: string, share: string, round: number, parallel: number): number {
  const mnt = join(work, `mnt-${String(parallel)}-${String(round)}`);
  const store = join(work, `store-${String(parallel)}-${String(round)}`);
  mkdirSync(mnt);
  tether(['mount', share, mnt, '--store', store], {
    env: { ...process.env, TETHER_PULL_MS: '600000', TETHER_FETCH_PARALLEL: String(parallel) },
  });
  try {
    // A small file first: the daemon's remote agent is then up (its start is no fetch's cost).
    must(['cat', join(mnt, 'small.txt')]);
    return must(['head', '-c', '1', join(mnt, 'big.bin')], { timeout: 600_000 }).seconds;
  } finally {
    tether(['unmount', mnt], { timeout: 60_000 });
    rmSync(store, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-partial-'));
  const exported = join(work, 'exported');
  const share = join(work, 'share');
  for (const d of [exported, share]) mkdirSync(d);
  await writeRandom(join(exported, 'big.bin'), MB);
  writeFileSync(join(exported, 'small.txt'), 'small\n');
  const sshd = await startSshd(work);
  try {
    must(['sshfs', ...sshfsArgs(sshd, exported, share, { more: ['reconnect'] })]);
    const times = {
      cp: [] as number[],
      cpSync: [] as number[],
      seq: [] as number[],
      par: [] as number[],
    };
    for (let round = 0; round < ROUNDS; round++) {
      const copy = join(work, 'cp-copy');
      times.cp.push(must(['cp', join(share, 'big.bin'), copy]).seconds);
      rmSync(copy);
      times.cpSync.push(
        must(['sh', '-c', `cp ${join(share, 'big.bin')} ${copy} && sync ${copy}`]).seconds,
      );
      rmSync(copy);
      times.seq.push(fetchOnce(work, share, round, 1));
      times.par.push(fetchOnce(work, share, round, PARALLEL));
    }
    const mbps = (s: number): number => round3(MB / s);
    const summary = {
      mb: MB,
      rounds: ROUNDS,
      parallel: PARALLEL,
      cp_s: round3(median(times.cp)),
      cp_sync_s: round3(median(times.cpSync)),
      sequential_s: round3(median(times.seq)),
      parallel_s: round3(median(times.par)),
      cp_mb_s: mbps(median(times.cp)),
      sequential_mb_s: mbps(median(times.seq)),
      parallel_mb_s: mbps(median(times.par)),
      parallel_speedup: round3(median(times.seq) / median(times.par)),
    };
    console.log(
      `fetch of a ${String(MB)} MiB file over sshfs (median of ${String(ROUNDS)}): ` +
        `sequential ${String(summary.sequential_s)} s, ${String(PARALLEL)} ranges in flight ` +
        `${String(summary.parallel_s)} s (${String(summary.parallel_speedup)}x); ` +
        `cp ${String(summary.cp_s)} s, cp + sync ${String(summary.cp_sync_s)} s`,
    );
    console.log(JSON.stringify(summary));
  } finally {
    for (const name of readdirSync(work)) {
      const d = join(work, name);
      if (name.startsWith('mnt-') && mountedAt(d)) spawnSync('fusermount', ['-uz', d]);
    }
    if (mountedAt(share)) spawnSync('fusermount', ['-uz', share]);
    for (const p of processTree(sshd.proc.pid ?? 0)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (process.env['BENCH_KEEP'] !== '1' && !mountedAt(share)) {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

await main();

// Benchmark (issues 14, 15): the cost of a FUSE request on tether's low-level binding, through
// the passthrough test fixture, against native ext4 (the same backing directory) and against a
// C FUSE filesystem on the same kernel (fuse-overlayfs over the same directory, when
// installed). Measured from a child process (never from the serving one):
// - stat latency with zero cache lifetimes (every stat is a request to JavaScript) and with
//   the binding's long ones (answered by the kernel);
// - sequential write throughput (written by the binding's session thread);
// - stat latency in variant views of a volume (`tether mount --variant`): the server side,
//   whose daemon keeps long lifetimes and invalidates what a change of the volume changed,
//   against the local side, whose daemon keeps none (as every variant view did before).
// Sizes: BENCH_STATS (20000 stats), BENCH_MB (256). Runs: BENCH_RUNS (3, median). Last line: JSON.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fusermountUnmount, mountFixture, type FixtureOptions } from '../test/fuse/harness.js';
import { envInt, median, round3, tether } from './lib/run.js';

const STATS = envInt('BENCH_STATS', 20_000);
const MB = envInt('BENCH_MB', 256);
const RUNS = envInt('BENCH_RUNS', 3);

// What the child runs: µs per stat of one file, or MB/s writing MB MiB in 1 MiB writes + fsync.
const STAT_LOOP = `
const fs = await import('node:fs');
const [p, n] = [process.argv[1], Number(process.argv[2])];
fs.statSync(p);
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) fs.statSync(p);
console.log(Number(process.hrtime.bigint() - t) / 1e3 / n);
`;
const WRITE_LOOP = `
const fs = await import('node:fs');
const [p, mb] = [process.argv[1], Number(process.argv[2])];
const buf = Buffer.alloc(1 << 20, 7);
const t = process.hrtime.bigint();
const fd = fs.openSync(p, 'w');
for (let i = 0; i < mb; i++) fs.writeSync(fd, buf);
fs.fsyncSync(fd);
fs.closeSync(fd);
console.log(mb / (Number(process.hrtime.bigint() - t) / 1e9));
fs.unlinkSync(p);
`;

function child(code: string, ...args: string[]): number {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`measuring failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const statUs = (dir: string): number =>
  median(Array.from({ length: RUNS }, () => child(STAT_LOOP, join(dir, 'f'), String(STATS))));
const writeMBps = (dir: string): number =>
  median(Array.from({ length: RUNS }, () => child(WRITE_LOOP, join(dir, 'w'), String(MB))));

async function throughFixture<T>(options: FixtureOptions, fn: (dir: string) => T): Promise<T> {
  const m = await mountFixture('passthrough', options);
  try {
    writeFileSync(join(m.root, 'f'), 'x');
    return fn(m.dir);
  } finally {
    await m.unmount();
  }
}

/** fuse-overlayfs (C, libfuse 3 low-level) over dir: a native FUSE peer, if installed. */
async function throughOverlay<T>(dir: string, fn: (mnt: string) => T): Promise<T | undefined> {
  if (spawnSync('sh', ['-c', 'command -v fuse-overlayfs']).status !== 0) return undefined;
  const base = mkdtempSync(join(tmpdir(), 'tether-bench-ovl-'));
  const [upper, work, mnt] = ['upper', 'work', 'mnt'].map((d) => join(base, d)) as [
    string,
    string,
    string,
  ];
  for (const d of [upper, work, mnt]) mkdirSync(d);
  writeFileSync(join(upper, 'f'), 'x');
  const opts = `lowerdir=${dir},upperdir=${upper},workdir=${work}`;
  const r = spawnSync('fuse-overlayfs', ['-o', opts, mnt], { timeout: 20_000 });
  if (r.status !== 0) return undefined;
  try {
    return fn(mnt);
  } finally {
    await fusermountUnmount(mnt);
    rmSync(base, { recursive: true, force: true });
  }
}

/** µs per stat in the server and local variant views of a volume whose server holds `f`. */
function throughVariants(): { server: number; local: number } {
  const base = mkdtempSync(join(tmpdir(), 'tether-bench-variant-'));
  const [remote, store, mnt, server, local] = ['remote', 'store', 'mnt', 'server', 'local'].map(
    (d) => join(base, d),
  ) as [string, string, string, string, string];
  for (const d of [remote, mnt, server, local]) mkdirSync(d);
  writeFileSync(join(remote, 'f'), 'x');
  // No pulls while measuring: the views stay as they are.
  tether(['mount', remote, mnt, '--store', store], {
    env: { ...process.env, TETHER_PULL_MS: '600000' },
  });
  try {
    tether(['mount', '--variant', 'server', '--of', mnt, server]);
    tether(['mount', '--variant', 'local', '--of', mnt, local]);
    return { server: statUs(server), local: statUs(local) };
  } finally {
    // Unmounting the volume unmounts its views first.
    tether(['unmount', mnt]);
    rmSync(base, { recursive: true, force: true });
  }
}

const work = mkdtempSync(join(tmpdir(), 'tether-bench-fuse-'));
try {
  writeFileSync(join(work, 'f'), 'x');
  const nativeStat = statUs(work);
  const nativeWrite = writeMBps(work);
  const stat0 = await throughFixture({ times: { attr: 0, entry: 0, negative: 0 } }, statUs);
  const statLong = await throughFixture({}, statUs);
  const write = await throughFixture({}, writeMBps);
  const variant = throughVariants();
  const overlay = await throughOverlay(work, (mnt) => ({
    stat: statUs(mnt),
    write: writeMBps(mnt),
  }));

  const row = (what: string, v: number, unit: string, native: number): void => {
    console.log(
      `${what.padEnd(44)} ${v.toFixed(1).padStart(8)} ${unit.padEnd(5)} ${(v / native).toFixed(2).padStart(7)}× native`,
    );
  };
  console.log(
    `stat: ${STATS} per run; write: ${MB} MiB in 1 MiB writes + fsync; median of ${RUNS}`,
  );
  row('stat, native ext4', nativeStat, 'µs', nativeStat);
  row('stat, passthrough, no kernel caching', stat0, 'µs', nativeStat);
  row('stat, passthrough, long cache lifetimes', statLong, 'µs', nativeStat);
  if (overlay !== undefined)
    row('stat, fuse-overlayfs (C, defaults)', overlay.stat, 'µs', nativeStat);
  row('stat, variant view, no kernel caching (local)', variant.local, 'µs', nativeStat);
  row('stat, variant view, invalidated (server)', variant.server, 'µs', nativeStat);
  row('write, native ext4', nativeWrite, 'MB/s', nativeWrite);
  row('write, passthrough', write, 'MB/s', nativeWrite);
  if (overlay !== undefined) row('write, fuse-overlayfs (C)', overlay.write, 'MB/s', nativeWrite);
  console.log(
    JSON.stringify({
      bench: 'fuse',
      statUs: {
        native: round3(nativeStat),
        attr0: round3(stat0),
        long: round3(statLong),
        overlay: overlay === undefined ? null : round3(overlay.stat),
        variantUncached: round3(variant.local),
        variantCached: round3(variant.server),
      },
      writeMBps: {
        native: Math.round(nativeWrite),
        passthrough: Math.round(write),
        overlay: overlay === undefined ? null : Math.round(overlay.write),
      },
      statRatioAttr0: round3(stat0 / nativeStat),
      statRatioLong: round3(statLong / nativeStat),
      statRatioVariantUncached: round3(variant.local / nativeStat),
      statRatioVariantCached: round3(variant.server / nativeStat),
      variantSpeedup: round3(variant.local / variant.server),
      writeRatio: round3(write / nativeWrite),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Benchmark (issue 13, read-only views): walking and reading a mounted snapshot view of a
// 5,000-file tree, against fuse-overlayfs serving the same files read-only (a lower directory
// and no upper) in the same run. Timed, per mount: `find MNT -ls` (every lookup and getattr)
// and `tar cf - -C MNT . | wc -c` (every byte), the first run right after mounting (nothing
// in the kernel's caches for the mount) and then the median of BENCH_RUNS warm runs. Then
// the local variant view of a volume mounted over the same tree (`--variant local --of`, kept
// by the kernel and invalidated from the volume's journal) against the directory itself:
// `find -ls` (a stat of every file), the median of BENCH_RUNS warm runs.
//
// Sizes: BENCH_FILES (5000), BENCH_MB (50), BENCH_RUNS (3), BENCH_DIR (where the work
// directory is made; default the temp dir), BENCH_KEEP=1 keeps it. Needs /dev/fuse,
// fusermount and fuse-overlayfs; prints one JSON line last.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, median, must, round3, tether, TETHER, timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 5000);
const MB = envInt('BENCH_MB', 50);
const RUNS = envInt('BENCH_RUNS', 3);
const KEEP = process.env['BENCH_KEEP'] === '1';

const mountedAt = (mnt: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `);

interface Walks {
  readonly findCold: number;
  readonly find: number;
  readonly tarCold: number;
  readonly tar: number;
  readonly bytes: number;
}

function walks(mnt: string): Walks {
  const find = (): number => must(['sh', '-c', `find ${mnt} -ls > /dev/null`]).seconds;
  const tar = (): { s: number; bytes: number } => {
    const r = must(['sh', '-c', `tar cf - -C ${mnt} . | wc -c`]);
    return { s: r.seconds, bytes: Number(r.stdout.trim()) };
  };
  const findCold = find();
  const tarCold = tar();
  const warmFind: number[] = [];
  const warmTar: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    warmFind.push(find());
    warmTar.push(tar().s);
  }
  return {
    findCold,
    find: median(warmFind),
    tarCold: tarCold.s,
    tar: median(warmTar),
    bytes: tarCold.bytes,
  };
}

function main(): void {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'views-bench-'));
  const src = join(work, 'src');
  const store = join(work, 'store');
  const view = join(work, 'view');
  const overlay = join(work, 'overlay');
  const volume = join(work, 'volume');
  const local = join(work, 'local');
  for (const d of [src, view, overlay, volume, local]) mkdirSync(d);
  try {
    generateTree(src, {
      files: FILES,
      totalBytes: MB * 1024 * 1024,
      pool: makePool(4 * 1024 * 1024, mulberry32(3)),
    });
    tether(['snapshot', 'take', 'bench', '--of', src, '--store', store]);
    tether(['mount', '--snapshot', 'bench', '--store', store, view]);
    must(['fuse-overlayfs', '-o', `lowerdir=${src}`, overlay]);
    const t = walks(view);
    const o = walks(overlay);
    if (t.bytes !== o.bytes)
      throw new Error(`tar sizes differ: view ${t.bytes}, overlay ${o.bytes}`);
    const ratio = (a: number, b: number): number => round3(a / b);
    tether(['mount', src, volume, '--store', join(work, 'volume-store')]);
    tether(['mount', '--variant', 'local', '--of', volume, local]);
    const findLs = (dir: string): number => {
      must(['sh', '-c', `find ${dir} -ls > /dev/null`]);
      const runs = Array.from(
        { length: RUNS },
        () => must(['sh', '-c', `find ${dir} -ls > /dev/null`]).seconds,
      );
      return median(runs);
    };
    const localFind = findLs(local);
    const nativeFind = findLs(src);
    const result = {
      bench: 'view',
      files: FILES,
      mb: MB,
      tether: {
        findCold: round3(t.findCold),
        find: round3(t.find),
        tarCold: round3(t.tarCold),
        tar: round3(t.tar),
      },
      overlayfs: {
        findCold: round3(o.findCold),
        find: round3(o.find),
        tarCold: round3(o.tarCold),
        tar: round3(o.tar),
      },
      ratio: {
        findCold: ratio(t.findCold, o.findCold),
        find: ratio(t.find, o.find),
        tarCold: ratio(t.tarCold, o.tarCold),
        tar: ratio(t.tar, o.tar),
      },
      localVariant: {
        find: round3(localFind),
        nativeFind: round3(nativeFind),
        ratio: ratio(localFind, nativeFind),
      },
    };
    console.log(
      `find -ls: view ${result.tether.find} s (cold ${result.tether.findCold}), fuse-overlayfs ${result.overlayfs.find} s (cold ${result.overlayfs.findCold}): ×${result.ratio.find} (cold ×${result.ratio.findCold})`,
    );
    console.log(
      `tar c:    view ${result.tether.tar} s (cold ${result.tether.tarCold}), fuse-overlayfs ${result.overlayfs.tar} s (cold ${result.overlayfs.tarCold}): ×${result.ratio.tar} (cold ×${result.ratio.tarCold})`,
    );
    console.log(
      `find -ls of the local variant view ${result.localVariant.find} s, of the directory ${result.localVariant.nativeFind} s: ×${result.localVariant.ratio}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    // The volume's unmount unmounts its views first.
    if (mountedAt(volume)) timed([process.execPath, TETHER, 'unmount', volume]);
    for (const m of [local, volume]) if (mountedAt(m)) spawnSync('fusermount', ['-uz', m]);
    if (mountedAt(view)) timed([process.execPath, TETHER, 'unmount', view]);
    if (mountedAt(view)) spawnSync('fusermount', ['-uz', view]);
    if (mountedAt(overlay)) spawnSync('fusermount', ['-u', overlay]);
    if (mountedAt(overlay)) spawnSync('fusermount', ['-uz', overlay]);
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  }
}

main();

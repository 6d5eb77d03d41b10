// Benchmark (issue 15): tether's mount (its libfuse 3 low-level binding) against the local disk
// and the FUSE peers users would otherwise run, all in the same run on the same disk:
// - native: a plain directory;
// - fuse-overlayfs (C, libfuse 3 low-level) with the work in its upper directory;
// - rclone mount --vfs-cache-mode full of a local directory;
// - tether, the volume offline (the mount is the only writer, as on a train: every change lands
//   in the overlay and nothing is flushed).
// Workloads, each in a child process: one stat (µs, of a cached file), creating BENCH_FILES
// (10,000) 4 KiB files, `git status` (second run) in a repository of BENCH_GIT (5,000) files,
// BENCH_MB (256) MiB written in 1 MiB writes with fsync, the same file read again (page
// cache), and `find` over everything after a remount (cold: the FUSE peers' kernel caches
// are gone; native stays warm, the page cache is not dropped on a shared machine) and again
// (warm), untarring BENCH_UNTAR (20,000) files, and `du -s` over a tree of BENCH_DU (50,000)
// entries after a remount (cold) and again (warm; the tree is unpacked untimed first). Prints
// a table of ratios to native and one JSON line last. Needs root, /dev/fuse; a peer whose tool
// is missing is skipped. BENCH_PEERS (names, comma-separated, e.g. "fuse-overlayfs,rclone,
// tether") picks peers; BENCH_TETHER_BEFORE names another build's tether.cjs, measured
// as one more peer in the same run (before and after a change, side by side); BENCH_ONLY
// (workloads, comma-separated: stat, create, git, write, read, untar, find, du; read needs
// write) measures only those, for a quick round. The peer measured later meets a busier disk,
// by more than builds differ: BENCH_ROUNDS=N (1) measures N rounds, each native first and
// then the FUSE peers rotated (round r starts at peer r mod k; BENCH_REVERSE=1 reverses the
// list first), every peer's directories emptied and the disk synced between rounds; the
// tables give the medians over the rounds of each peer's ratio to the same round's native,
// and of the raw numbers, and the JSON line every round's too. BENCH_KEEP=1 keeps the files.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { has, native, overlay, type Peer, rclone, tether, trash } from './lib/peers.js';
import { medians, rotated, type Round, type Row } from './lib/rounds.js';
import { envInt, must, round3, timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 10_000);
const GIT_FILES = envInt('BENCH_GIT', 5_000);
const MB = envInt('BENCH_MB', 256);
const STATS = envInt('BENCH_STATS', 20_000);
const UNTAR = envInt('BENCH_UNTAR', 20_000);
const DU = envInt('BENCH_DU', 50_000);
const BEFORE = process.env['BENCH_TETHER_BEFORE'];
const PEERS = process.env['BENCH_PEERS']?.split(',').map((s) => s.trim());
const KEEP = process.env['BENCH_KEEP'] === '1';
const ROUNDS = envInt('BENCH_ROUNDS', 1);
const REVERSE = process.env['BENCH_REVERSE'] === '1';
const ONLY = process.env['BENCH_ONLY']?.split(',').map((s) => s.trim());
const WORKLOADS = ['stat', 'create', 'git', 'write', 'read', 'untar', 'find', 'du'];
const unknown = ONLY?.filter((w) => !WORKLOADS.includes(w)) ?? [];
if (unknown.length > 0) {
  throw new Error(
    `BENCH_ONLY names no such workload: ${unknown.join(', ')} (${WORKLOADS.join(', ')})`,
  );
}
const wants = (w: string): boolean => ONLY === undefined || ONLY.includes(w);
const LIMIT = { timeout: 600_000 };

/** Runs a small script in a child node; it prints one number. */
function child(code: string, ...args: string[]): number {
  const r = timed([process.execPath, '--input-type=module', '-e', code, ...args], LIMIT);
  if (r.status !== 0) throw new Error(`measuring failed: ${r.stderr.slice(0, 2000)}`);
  return Number(r.stdout.trim());
}

const STAT_US = `
const fs = await import('node:fs');
const [p, n] = [process.argv[1], Number(process.argv[2])];
fs.statSync(p);
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) fs.statSync(p);
console.log(Number(process.hrtime.bigint() - t) / 1e3 / n);
`;
const CREATE_S = `
const fs = await import('node:fs');
const [dir, n] = [process.argv[1], Number(process.argv[2])];
const buf = Buffer.alloc(4096, 7);
const t = process.hrtime.bigint();
for (let d = 0; d * 100 < n; d++) {
  fs.mkdirSync(dir + '/' + d, { recursive: true });
  for (let i = d * 100; i < Math.min(n, d * 100 + 100); i++) fs.writeFileSync(dir + '/' + d + '/' + i, buf);
}
console.log(Number(process.hrtime.bigint() - t) / 1e9);
`;
const WRITE_S = `
const fs = await import('node:fs');
const [p, mb] = [process.argv[1], Number(process.argv[2])];
const buf = Buffer.alloc(1 << 20, 7);
const t = process.hrtime.bigint();
const fd = fs.openSync(p, 'w');
for (let i = 0; i < mb; i++) fs.writeSync(fd, buf);
fs.fsyncSync(fd);
fs.closeSync(fd);
console.log(Number(process.hrtime.bigint() - t) / 1e9);
`;
const READ_S = `
const fs = await import('node:fs');
const p = process.argv[1];
const buf = Buffer.alloc(1 << 20);
const read = () => { const fd = fs.openSync(p, 'r'); while (fs.readSync(fd, buf) > 0); fs.closeSync(fd); };
read();
const t = process.hrtime.bigint();
read();
console.log(Number(process.hrtime.bigint() - t) / 1e9);
`;

/** A tree of `entries` names (files of 1 KiB, 200 to a directory, and the directories). */
const TREE = `
const fs = await import('node:fs');
const [dir, n] = [process.argv[1], Number(process.argv[2])];
const buf = Buffer.alloc(1024, 7);
let made = 0;
for (let d = 0; made < n; d++) {
  fs.mkdirSync(dir + '/' + d, { recursive: true });
  made++;
  for (let i = 0; i < 200 && made < n; i++, made++) fs.writeFileSync(dir + '/' + d + '/' + i, buf);
}
console.log(0);
`;

/** A tarball of a tree of `entries` names, made on the local disk. */
function tarball(work: string, name: string, entries: number): string {
  const src = join(work, 'tars', name);
  mkdirSync(src, { recursive: true });
  child(TREE, src, String(entries));
  const tar = join(work, 'tars', `${name}.tar`);
  must(['tar', 'cf', tar, '-C', src, '.'], LIMIT);
  trash(src);
  return tar;
}

function gitRepo(dir: string): void {
  mkdirSync(dir);
  child(CREATE_S, dir, String(GIT_FILES));
  const git = (...args: string[]): void => {
    must(['git', '-C', dir, '-c', 'user.name=b', '-c', 'user.email=b@b', ...args], LIMIT);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'files');
}

const seconds = (argv: string[]): number => must(argv, LIMIT).seconds;

function measure(p: Peer, tars: { untar: string; du: string }): Row {
  p.mount();
  const row: Row = {};
  try {
    writeFileSync(join(p.dir, 'f'), 'x');
    if (wants('stat')) row['stat µs'] = child(STAT_US, join(p.dir, 'f'), String(STATS));
    if (wants('create')) {
      row[`create ${String(FILES)} s`] = child(CREATE_S, join(p.dir, 'many'), String(FILES));
    }
    if (wants('git')) {
      gitRepo(join(p.dir, 'repo'));
      seconds(['git', '-C', join(p.dir, 'repo'), 'status', '--porcelain']);
      row['git status s'] = seconds(['git', '-C', join(p.dir, 'repo'), 'status', '--porcelain']);
    }
    const big = join(p.dir, 'big');
    if (wants('write') || wants('read')) {
      // The disk idle first: what an earlier peer wrote is not written back in this one's time.
      must(['sync'], LIMIT);
      row[`write ${String(MB)} MiB+fsync s`] = child(WRITE_S, big, String(MB));
    }
    if (wants('read')) row['cached read s'] = child(READ_S, big);
    if (wants('untar')) {
      mkdirSync(join(p.dir, 'untar'));
      row[`untar ${String(UNTAR)} s`] = seconds([
        'tar',
        'xf',
        tars.untar,
        '-C',
        join(p.dir, 'untar'),
      ]);
    }
  } finally {
    p.unmount();
  }
  if (wants('find') || wants('du')) {
    p.mount();
    try {
      if (wants('find')) {
        row['find cold s'] = seconds(['find', p.dir, '-mount']);
        row['find warm s'] = seconds(['find', p.dir, '-mount']);
      }
      if (wants('du')) {
        mkdirSync(join(p.dir, 'du'));
        must(['tar', 'xf', tars.du, '-C', join(p.dir, 'du')], LIMIT);
      }
    } finally {
      p.unmount();
    }
  }
  if (wants('du')) {
    p.mount();
    try {
      row[`du ${String(DU)} cold s`] = seconds(['du', '-s', join(p.dir, 'du')]);
      row[`du ${String(DU)} warm s`] = seconds(['du', '-s', join(p.dir, 'du')]);
    } finally {
      p.unmount();
    }
  }
  return row;
}

function main(): void {
  if (process.getuid?.() !== 0 || !existsSync('/dev/fuse')) {
    console.log('fuse-peers benchmark skipped: needs root and /dev/fuse');
    return;
  }
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-peers-'));
  const base = native(work);
  const fuse: Peer[] = [];
  if (has('fuse-overlayfs')) fuse.push(overlay(work));
  if (has('rclone')) fuse.push(rclone(work));
  if (BEFORE !== undefined) fuse.push(tether(work, BEFORE, ' (before)'));
  fuse.push(tether(work));
  const chosen = fuse.filter((p) => PEERS === undefined || PEERS.some((n) => p.name.startsWith(n)));
  // The peer measured later meets a disk that earlier peers' files left busier (writeback; the
  // run deletes nothing until it ends, see trash()): BENCH_REVERSE=1 measures the FUSE peers in the
  // opposite order (native still first), and each round after the first starts one peer further
  // along the list, so over BENCH_ROUNDS rounds every peer takes every place.
  if (REVERSE) chosen.reverse();
  const tars = {
    untar: wants('untar') ? tarball(work, 'untar', UNTAR) : '',
    du: wants('du') ? tarball(work, 'du', DU) : '',
  };
  const rounds: Round[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      // Every round from the same state: each peer's directories empty (the old ones moved to the
      // trash), the disk written back.
      if (r > 0) for (const p of [base, ...chosen]) p.reset();
      must(['sync'], LIMIT);
      const order = [base, ...rotated(chosen, r)];
      const rows = new Map<string, Row>();
      for (const p of order) {
        console.log(`round ${String(r + 1)}/${String(ROUNDS)}: measuring ${p.name}…`);
        // What the peer before wrote is on the disk first, not written back in this one's time
        // (rclone's cache of 20,000 untarred files and 256 MiB is still dirty when it exits).
        must(['sync'], LIMIT);
        rows.set(p.name, measure(p, tars));
      }
      rounds.push({ order: order.map((p) => p.name), rows });
    }
    report(
      rounds,
      [base, ...chosen].map((p) => p.name),
    );
  } finally {
    for (const p of chosen) p.unmount();
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Per workload, each peer's median over the rounds of its ratio to the same round's native
 * (a round's load swings native too), and the medians of the raw numbers.
 */
function report(rounds: readonly Round[], names: readonly string[]): void {
  const keys = Object.keys(rounds[0]?.rows.get('native') ?? {});
  const { raw, ratios } = medians(rounds, names);
  const peers = names.slice(1);
  const table = (title: string, cell: (name: string, k: string) => string): void => {
    const lines = [`| ${title} | native | ${peers.join(' | ')} |`];
    lines.push(`| --- | --- |${peers.map(() => ' --- |').join('')}`);
    for (const k of keys) {
      const cells = peers.map((name) => cell(name, k));
      lines.push(`| ${k} | ${String(round3(raw['native']![k]!))} | ${cells.join(' | ')} |`);
    }
    console.log(lines.join('\n'));
  };
  const of = ROUNDS === 1 ? '' : ` (median of ${String(ROUNDS)} rounds)`;
  table(`workload, ratio to native${of}`, (name, k) => `${ratios[name]![k]!.toFixed(2)}×`);
  if (ROUNDS > 1) table('workload, median', (name, k) => String(round3(raw[name]![k]!)));
  console.log(
    JSON.stringify({
      bench: 'fuse-peers',
      files: FILES,
      git: GIT_FILES,
      mb: MB,
      untar: UNTAR,
      du: DU,
      rounds: ROUNDS,
      rows: raw,
      ratios,
      perRound: rounds.map((r) => ({ order: r.order, rows: Object.fromEntries(r.rows) })),
    }),
  );
}

main();

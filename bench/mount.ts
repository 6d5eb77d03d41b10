// Benchmark (issue 12, Performance): reconnect of a mounted volume whose daemon is warm, with
// 100 changes on each side of a 20,000-file / ~200 MB tree, against `unison -batch` doing the
// same work between two plain directories in the same run; and the time from `tether mount`
// (and from `tether offline`) to the first answered stat in the mount.
//
// The volume is mounted, synced once (untimed: the daemon's scan caches are warm, as after a
// day's use), the files the local side will edit or rename are read (fetched), and the volume
// goes offline. The same changes are then made on each side of both setups — per side:
// edits, creates, deletes, a rename, and BENCH_CONFLICTS edits of the same files as the other
// side — through the mount for tether's local side, in the directories for unison. Timed:
// `tether online MOUNTPOINT` (whole command: scan both sides, merge, apply, commit) and
// `unison A B -batch` (whole command), each a wall time from process start to exit.
//
// Each round also prints the daemon's phase timings of that sync, from its log (compose,
// start, scan, merge, apply, commit, post).
//
// Sizes: BENCH_FILES (20000), BENCH_MB (200), BENCH_CHANGES per side (100), BENCH_CONFLICTS
// (5, part of the changes), BENCH_ROUNDS (1: rounds of offline → changes → tether online, then
// unison, interleaved so both see the same machine load; medians reported), BENCH_DIR (where
// the work directory is made; default the temp dir), BENCH_KEEP=1 keeps it. BENCH_BASELINE=FILE
// (another build's tether.cjs) reconnects a second volume (its own copy of the server
// directory and its own store) with the same changes in the same rounds, the two builds
// taking turns at going first. Needs /dev/fuse, fusermount and unison; prints one JSON line last.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { content, generateTree, makePool, mulberry32, shuffle } from './lib/gentree.js';
import { median, must, TETHER, timed } from './lib/run.js';
import { logFileOf } from '../src/volume/layout.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number, got ${v}`);
  return n;
}

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);
const CHANGES = envInt('BENCH_CHANGES', 100);
const CONFLICTS = Math.min(envInt('BENCH_CONFLICTS', 5), CHANGES);
const ROUNDS = Math.max(1, envInt('BENCH_ROUNDS', 1));
const KEEP = process.env['BENCH_KEEP'] === '1';
const BASELINE = process.env['BENCH_BASELINE'];

type Change =
  | { op: 'write'; path: string; data: Buffer }
  | { op: 'delete'; path: string }
  | { op: 'rename'; path: string; to: string };

/**
 * Per side: conflicting edits, one rename, 10% deletes, 20% creates, the rest edits. Round `r`
 * picks among paths no earlier round deleted, renamed or conflicted (`used`, which it grows).
 */
function plan(
  paths: readonly string[],
  pool: Buffer,
  r: number,
  used: Set<string>,
): { local: Change[]; server: Change[] } {
  const rnd = mulberry32(7 + r);
  const picks = shuffle(
    paths.filter((p) => !used.has(p)),
    rnd,
  );
  let next = 0;
  const take = (n: number): string[] => picks.slice(next, (next += n));
  const size = (): number => 512 + Math.floor(rnd() * 16_384);
  const plain = CHANGES - CONFLICTS;
  const renames = plain > 0 ? 1 : 0;
  const deletes = Math.floor(plain * 0.1);
  const creates = Math.floor(plain * 0.2);
  const edits = plain - renames - deletes - creates;
  const out = { local: [] as Change[], server: [] as Change[] };
  for (const path of take(CONFLICTS)) {
    out.local.push({ op: 'write', path, data: content(pool, `local ${path}`, size(), 31) });
    out.server.push({ op: 'write', path, data: content(pool, `server ${path}`, size(), 37) });
  }
  for (const side of ['local', 'server'] as const) {
    const list = out[side];
    for (const path of take(edits)) {
      list.push({ op: 'write', path, data: content(pool, `${side} edit ${path}`, size(), 3) });
    }
    for (let i = 0; i < creates; i++) {
      const path = `${dirname(picks[i]!)}/created-${side}-${r}-${i}.dat`;
      list.push({ op: 'write', path, data: content(pool, `created ${path}`, size(), i) });
    }
    for (const path of take(deletes)) list.push({ op: 'delete', path });
    for (const path of take(renames))
      list.push({ op: 'rename', path, to: `${path}.moved-${side}` });
  }
  for (const c of [...out.local, ...out.server]) if (c.op !== 'write') used.add(c.path);
  for (const path of picks.slice(0, CONFLICTS)) used.add(path);
  return out;
}

function apply(root: string, changes: readonly Change[]): void {
  for (const c of changes) {
    const file = join(root, c.path);
    if (c.op === 'write') writeFileSync(file, c.data);
    else if (c.op === 'delete') unlinkSync(file);
    else renameSync(file, join(root, c.to));
  }
}

/** The daemon's last "sync phases (ms): …" line (its log, in the store), for each round's report. */
function lastPhases(store: string): string {
  const lines = readFileSync(logFileOf(store), 'utf8').split('\n');
  const at = lines.findLastIndex((l) => l.includes('sync phases'));
  return at < 0 ? 'sync phases: none logged' : lines[at]!.slice(lines[at]!.indexOf('sync phases'));
}

/** Seconds from starting `argv` to the first answered stat of `probe` after it returned. */
function toFirstStat(argv: readonly string[], probe: string, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  must(argv, { env });
  must(['stat', '-c', '%s', probe]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** The 1-minute load average (Linux), for the report. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'latin1').split(' ')[0]!;
  } catch {
    return '?';
  }
}

function main(): void {
  for (const [what, ok] of [
    ['/dev/fuse', existsSync('/dev/fuse')],
    ['unison (apt-get install -y unison)', spawnSync('unison', ['-version']).status === 0],
  ] as const) {
    if (!ok) {
      console.log(`mount benchmark skipped: ${what} is missing`);
      return;
    }
  }
  const base = process.env['BENCH_DIR'] ?? tmpdir();
  const work = mkdtempSync(join(base, 'tether-bench-mount-'));
  const remote = join(work, 'remote');
  const mnt = join(work, 'mnt');
  const store = join(work, 'store');
  const ua = join(work, 'ua');
  const ub = join(work, 'ub');
  const env = { ...process.env, TETHER_PULL_MS: '3600000', UNISON: join(work, 'unison-home') };
  let mounted = false;
  let otherMounted: string | undefined;
  try {
    console.log(`generating ${FILES} files / ${MB} MB in ${work}`);
    const pool = makePool(4 * 1024 * 1024, mulberry32(3));
    const paths = generateTree(remote, { files: FILES, totalBytes: MB * 1024 * 1024, pool });
    must(['cp', '-a', remote, ua]);
    must(['cp', '-a', remote, ub]);
    mkdirSync(mnt);
    const other =
      BASELINE === undefined
        ? undefined
        : {
            cli: BASELINE,
            remote: join(work, 'remote2'),
            mnt: join(work, 'mnt2'),
            store: join(work, 'store2'),
          };
    if (other !== undefined) {
      must(['cp', '-a', remote, other.remote]);
      mkdirSync(other.mnt);
    }
    const unison = [
      'unison',
      ua,
      ub,
      '-batch',
      '-auto',
      '-times',
      '-prefer',
      ub,
      '-copyonconflict',
      '-confirmbigdel=false',
      '-ui',
      'text',
      '-logfile',
      join(work, 'unison.log'),
    ];
    must(unison, { env });

    const probe = join(mnt, paths[0]!);
    const mountArgv = [process.execPath, TETHER, 'mount', remote, mnt, '--store', store];
    const t0 = process.hrtime.bigint();
    must(mountArgv, { env });
    mounted = true;
    must(['stat', '-c', '%s', probe]);
    const mountToStat = Number(process.hrtime.bigint() - t0) / 1e9;
    must([process.execPath, TETHER, 'sync', mnt], { env }); // warm the daemon's scan caches
    // A later mount of the same store: the daemon starts on the view it left.
    must([process.execPath, TETHER, 'unmount', mnt]);
    mounted = false;
    const remountToStat = toFirstStat(mountArgv, probe, env);
    mounted = true;
    must([process.execPath, TETHER, 'sync', mnt], { env });
    if (other !== undefined) {
      must(
        [process.execPath, other.cli, 'mount', other.remote, other.mnt, '--store', other.store],
        {
          env,
        },
      );
      otherMounted = other.mnt;
      must([process.execPath, other.cli, 'sync', other.mnt], { env });
      must([process.execPath, other.cli, 'sync', other.mnt], { env });
    }

    const used = new Set<string>();
    const rounds: { tether: number; unison: number; baseline: number }[] = [];
    let offlineToStat = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const changes = plan(paths, pool, r, used);
      // The local side edits and renames what it has read (as after working on it); its
      // overwrites need nothing fetched.
      for (const c of changes.local) if (c.op === 'rename') readFileSync(join(mnt, c.path));
      const off = toFirstStat([process.execPath, TETHER, 'offline', mnt], probe, env);
      if (r === 0) offlineToStat = off;
      if (other !== undefined) {
        for (const c of changes.local) if (c.op === 'rename') readFileSync(join(other.mnt, c.path));
        must([process.execPath, other.cli, 'offline', other.mnt], { env });
      }
      // With a baseline, the two builds take turns at going first (their changes made first,
      // and gone online with first): the one whose changes are older has had longer to
      // compose them in the background, and the disk is quieter for the one that goes first.
      const baselineFirst = other !== undefined && r % 2 === 1;
      const sides = [{ mnt, remote }, ...(other === undefined ? [] : [other])];
      if (baselineFirst) sides.reverse();
      for (const side of sides) {
        apply(side.mnt, changes.local);
        apply(side.remote, changes.server);
      }
      apply(ua, changes.local);
      apply(ub, changes.server);

      const onlineOf = (cli: string, at: string) =>
        timed([process.execPath, cli, 'online', at], { env });
      const bFirst = baselineFirst ? onlineOf(other.cli, other.mnt) : undefined;
      const t = onlineOf(TETHER, mnt);
      if (t.status !== 0 && t.status !== 3) throw new Error(`tether online: ${t.stderr}`);
      const b = other === undefined ? undefined : (bFirst ?? onlineOf(other.cli, other.mnt));
      if (b !== undefined && b.status !== 0 && b.status !== 3) {
        throw new Error(`baseline online: ${b.stderr}`);
      }
      const u = timed(unison, { env });
      if (u.status !== 0 && u.status !== 1) throw new Error(`unison: ${u.stderr.slice(0, 2000)}`);
      rounds.push({ tether: t.seconds, unison: u.seconds, baseline: b?.seconds ?? NaN });
      console.log(
        `round ${r + 1}: tether online ${t.seconds.toFixed(2)} s, unison -batch ` +
          `${u.seconds.toFixed(2)} s, ratio ${(t.seconds / u.seconds).toFixed(2)}x ` +
          `(daemon's ${lastPhases(store)}); load ${loadAverage()}`,
      );
      if (other !== undefined && b !== undefined) {
        console.log(
          `  baseline online ${b.seconds.toFixed(2)} s, ratio ${(b.seconds / u.seconds).toFixed(2)}x ` +
            `(daemon's ${lastPhases(other.store)})`,
        );
      }
    }
    const tm = median(rounds.map((x) => x.tether));
    const um = median(rounds.map((x) => x.unison));
    const ratio = median(rounds.map((x) => x.tether / x.unison));
    const bm = median(rounds.map((x) => x.baseline));
    if (other !== undefined) {
      const br = median(rounds.map((x) => x.baseline / x.unison));
      console.log(
        `baseline (${other.cli}), median of ${ROUNDS}: online ${bm.toFixed(2)} s, ratio ` +
          `${br.toFixed(2)}x unison; this build / baseline ${(tm / bm).toFixed(2)}`,
      );
    }
    console.log(
      `reconnect, ${CHANGES} changes per side, median of ${ROUNDS}: tether online ` +
        `${tm.toFixed(2)} s, unison -batch ${um.toFixed(2)} s, ratio ${ratio.toFixed(2)}x`,
    );
    console.log(
      `first answered stat: ${mountToStat.toFixed(2)} s after the first tether mount ` +
        `(${FILES} placeholders made), ${remountToStat.toFixed(2)} s after a later mount, ` +
        `${offlineToStat.toFixed(3)} s after tether offline`,
    );
    console.log(
      JSON.stringify({
        bench: 'mount',
        files: FILES,
        mb: MB,
        changes: CHANGES,
        conflicts: CONFLICTS,
        rounds: ROUNDS,
        tetherOnline: tm,
        unison: um,
        ratio,
        ...(other === undefined ? {} : { baseline: bm }),
        mountToStat,
        remountToStat,
        offlineToStat,
      }),
    );
  } finally {
    if (otherMounted !== undefined && BASELINE !== undefined) {
      const r = timed([process.execPath, BASELINE, 'unmount', otherMounted]);
      if (r.status !== 0) spawnSync('fusermount', ['-uz', otherMounted]);
    }
    if (mounted) {
      const r = timed([process.execPath, TETHER, 'unmount', mnt]);
      if (r.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
    }
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  }
}

main();

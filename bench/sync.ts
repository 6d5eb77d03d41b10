// Benchmark (issue 3, Performance): the second sync of two replicas after 100 changes on each
// side, tether sync-dirs against Unison and rclone bisync doing the same work in the same run.
//
// One generated tree (default 20,000 files / ~200 MB) is copied into three identical pairs of
// replicas, one pair per tool; each tool runs its first sync (untimed for the comparison),
// then the SAME changes are applied to every pair — per side: edits, creates, deletes, a
// rename, and some edits that conflict with the other side's — and the next sync of each
// tool is timed (wall time of the whole command, process start included). Afterwards each
// pair is checked for every conflict kept: both the local and the server version present in
// the local replica A. Peers are never installed silently: a missing one is reported with
// the command that installs it, and the run goes on without it.
//
// Conflict policy per tool, as close to tether's as each allows: tether keeps the server's
// version at the path and the local one as a sibling variant in A; Unison runs with
// `-prefer B -copyonconflict` (B's version wins, A's is kept as a conflict copy); rclone bisync
// (before 1.66 it has no --conflict-resolve) renames both versions to `..path1`/`..path2`.
//
// Sizes: BENCH_FILES (20000), BENCH_MB (200), BENCH_CHANGES per side (100), BENCH_CONFLICTS
// (5, part of the changes), BENCH_ROUNDS (1: more rounds apply fresh changes and sync again;
// the median is reported), BENCH_DIR (where the work directory is made; default the temp
// dir), BENCH_KEEP=1 keeps the work directory, BENCH_PROFILE=DIR writes a CPU profile of each
// timed tether run there. BENCH_TETHER_BEFORE names another build's tether.cjs, synced as a
// tool of its own (a pair and a store of its own) in the same rounds, the order of all tools
// alternating each round; BENCH_PEERS=0 leaves Unison and rclone out (a comparison of two
// tether builds alone). Each timed run's CPU time (user and system, from /proc) is reported
// beside its wall time.
// The last line printed is one JSON summary.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { content, generateTree, makePool, mulberry32, shuffle } from './lib/gentree.js';
import { median, round3, timed } from './lib/run.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'tether.cjs');

/** A whole number of at least 0 (lib/run.ts's envInt wants more than 0: no BENCH_CONFLICTS=0). */
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
/** A directory for CPU profiles of tether's timed runs (node --cpu-prof), or unset. */
const PROFILE = process.env['BENCH_PROFILE'] || undefined;
/** Another build's tether.cjs, timed as the tool 'tether-before', or unset. */
const BEFORE = process.env['BENCH_TETHER_BEFORE'] || undefined;
const PEERS = process.env['BENCH_PEERS'] !== '0';

type Tool = 'tether' | 'tether-before' | 'unison' | 'rclone';
const TOOLS: readonly Tool[] = [
  'tether',
  ...(BEFORE === undefined ? [] : (['tether-before'] as const)),
  ...(PEERS ? (['unison', 'rclone'] as const) : []),
];

/** The tether.cjs a tether tool runs. */
const cjsOf = (tool: 'tether' | 'tether-before'): string => (tool === 'tether' ? MAIN : BEFORE!);

// --- the tree --------------------------------------------------------------------------

function generate(root: string, pool: Buffer): string[] {
  return generateTree(root, { files: FILES, totalBytes: MB * 1024 * 1024, pool });
}

// --- the changes -----------------------------------------------------------------------

type Change =
  | { op: 'edit'; path: string; data: Buffer }
  | { op: 'create'; path: string; data: Buffer }
  | { op: 'delete'; path: string }
  | { op: 'rename'; path: string; to: string };

interface RoundChanges {
  local: Change[];
  server: Change[];
  /** Per conflicted path: the two versions written. */
  conflicts: { path: string; local: Buffer; server: Buffer }[];
}

/**
 * The same changes for every pair: per side CONFLICTS conflicting edits, one rename, 10%
 * deletes, 20% creates (some in a new directory), the rest plain edits; the two sides touch
 * disjoint files except the conflicted ones. `live` (the files that exist) is updated.
 */
function planChanges(live: string[], pool: Buffer, round: number): RoundChanges {
  const rnd = mulberry32(1000 + round);
  const picks = shuffle([...live], rnd);
  let next = 0;
  const take = (n: number): string[] => {
    const out = picks.slice(next, next + n);
    next += n;
    if (out.length < n) throw new Error('the tree is too small for the changes asked for');
    return out;
  };
  const plain = CHANGES - CONFLICTS;
  const renames = plain > 0 ? 1 : 0;
  const deletes = Math.floor(plain * 0.1);
  const creates = Math.floor(plain * 0.2);
  const edits = plain - renames - deletes - creates;
  const conflicted = take(CONFLICTS);
  const out: RoundChanges = { local: [], server: [], conflicts: [] };
  const size = () => 512 + Math.floor(rnd() * 16_384);
  for (const path of conflicted) {
    const local = content(pool, `round ${round} local version of ${path}`, size(), next * 31);
    const server = content(pool, `round ${round} server version of ${path}`, size(), next * 37);
    out.local.push({ op: 'edit', path, data: local });
    out.server.push({ op: 'edit', path, data: server });
    out.conflicts.push({ path, local, server });
  }
  const gone = new Set<string>();
  const added: string[] = [];
  for (const side of ['local', 'server'] as const) {
    const list = out[side];
    for (const path of take(edits)) {
      list.push({
        op: 'edit',
        path,
        data: content(pool, `round ${round} ${side} edit`, size(), next),
      });
    }
    for (let i = 0; i < creates; i++) {
      const dir = i < 3 ? `new-${side}-${round}` : dirname(picks[i]!);
      const path = `${dir}/created-${side}-${round}-${i}.dat`;
      list.push({ op: 'create', path, data: content(pool, `created ${path}`, size(), i * 13) });
      added.push(path);
    }
    for (const path of take(deletes)) {
      list.push({ op: 'delete', path });
      gone.add(path);
    }
    for (const path of take(renames)) {
      const to = path.replace(/\.dat$/, `-renamed-${side}-${round}.dat`);
      list.push({ op: 'rename', path, to });
      gone.add(path);
      added.push(to);
    }
  }
  const kept = live.filter((p) => !gone.has(p));
  live.length = 0;
  live.push(...kept, ...added);
  return out;
}

function applyChanges(root: string, changes: readonly Change[], when: Date): void {
  for (const c of changes) {
    const file = join(root, c.path);
    switch (c.op) {
      case 'edit':
      case 'create':
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, c.data);
        utimesSync(file, when, when);
        break;
      case 'delete':
        unlinkSync(file);
        break;
      case 'rename':
        renameSync(file, join(root, c.to));
        break;
    }
  }
}

// --- the tools -------------------------------------------------------------------------

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly work: string;
}

function run(argv: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
}

const INSTALL: Record<Tool, string> = {
  tether: 'build it first: npx tsc -p .',
  'tether-before': 'build that tree first, or unset BENCH_TETHER_BEFORE',
  unison: 'apt-get install -y unison',
  rclone: 'apt-get install -y rclone',
};

function missing(tool: Tool): string | undefined {
  switch (tool) {
    case 'tether':
    case 'tether-before': {
      try {
        statSync(cjsOf(tool));
        return undefined;
      } catch {
        return `${tool} is not built (${cjsOf(tool)} is missing)`;
      }
    }
    case 'unison':
    case 'rclone': {
      const r = run([tool, tool === 'unison' ? '-version' : 'version']);
      return r.error === undefined ? undefined : `${tool} is not installed`;
    }
  }
}

function version(tool: Tool): string {
  switch (tool) {
    case 'tether':
    case 'tether-before':
      return run([process.execPath, cjsOf(tool), '--version']).stdout.trim();
    case 'unison':
      return run(['unison', '-version']).stdout.trim();
    case 'rclone':
      return (run(['rclone', 'version']).stdout.split('\n')[0] ?? '').trim();
  }
}

/** One sync of a pair; `first` is the run that sets the tool's state up. */
function syncArgv(tool: Tool, p: Pair, first: boolean): { argv: string[]; env: NodeJS.ProcessEnv } {
  switch (tool) {
    case 'tether':
    case 'tether-before':
      return {
        argv: [
          process.execPath,
          ...(PROFILE === undefined || first
            ? []
            : ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE, tool)}`]),
          cjsOf(tool),
          'sync-dirs',
          p.a,
          p.b,
          '--store',
          join(p.work, 'store'),
        ],
        env: {},
      };
    case 'unison':
      return {
        argv: [
          'unison',
          p.a,
          p.b,
          '-batch',
          '-auto',
          '-times',
          '-prefer',
          p.b,
          '-copyonconflict',
          '-confirmbigdel=false',
          '-ui',
          'text',
          '-logfile',
          join(p.work, 'unison.log'),
        ],
        env: { UNISON: join(p.work, 'unison-home') },
      };
    case 'rclone':
      return {
        argv: [
          'rclone',
          'bisync',
          p.a,
          p.b,
          '--workdir',
          join(p.work, 'rclone-work'),
          '--config',
          join(p.work, 'rclone.conf'),
          '-q',
          ...(first ? ['--resync'] : []),
        ],
        env: {},
      };
  }
}

/** Exit statuses that mean "done" (tether: 3 = done, conflicts remain). */
function okStatus(tool: Tool, status: number | null): boolean {
  return status === 0 || ((tool === 'tether' || tool === 'tether-before') && status === 3);
}

function timedSync(
  tool: Tool,
  p: Pair,
  first: boolean,
): { seconds: number; cpu: number | undefined; status: number | null } {
  const { argv, env } = syncArgv(tool, p, first);
  const r = timed(argv, { env: { ...process.env, ...env } });
  const seconds = r.seconds;
  const cpu = Number.isNaN(r.cpuSeconds) ? undefined : r.cpuSeconds;
  if (!okStatus(tool, r.status)) {
    process.stdout.write(
      `  ${tool} exited ${String(r.status)}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}\n`,
    );
  }
  return { seconds, cpu, status: r.status };
}

// --- checking --------------------------------------------------------------------------

function walk(root: string, out: string[] = [], dir = root): string[] {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, d.name);
    if (d.isDirectory()) walk(root, out, full);
    else if (d.isFile()) out.push(relative(root, full));
  }
  return out;
}

/** How many conflicts have both versions present in A (files compared by exact content). */
function conflictsKept(a: string, conflicts: RoundChanges['conflicts']): number {
  const bySize = new Map<number, string[]>();
  for (const path of walk(a)) {
    const size = statSync(join(a, path)).size;
    const list = bySize.get(size) ?? [];
    list.push(path);
    bySize.set(size, list);
  }
  const present = (data: Buffer): boolean =>
    (bySize.get(data.length) ?? []).some((p) => readFileSync(join(a, p)).equals(data));
  return conflicts.filter((c) => present(c.local) && present(c.server)).length;
}

// --- main ------------------------------------------------------------------------------

function main(): void {
  const parent = process.env['BENCH_DIR'] ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'tether-bench-sync-'));
  const say = (s: string) => process.stdout.write(s + '\n');
  const available: Tool[] = [];
  const absent: Record<string, string> = {};
  for (const tool of TOOLS) {
    const why = missing(tool);
    if (why === undefined) available.push(tool);
    else {
      absent[tool] = why;
      say(`${why}; ${INSTALL[tool]} — continuing without it`);
    }
  }
  try {
    say(`generating ${FILES} files / ~${MB} MB in ${dir}`);
    const pool = makePool(4 * 1024 * 1024, mulberry32(7));
    const gen = join(dir, 'gen');
    mkdirSync(gen);
    const live = generate(gen, pool);
    const pairs = new Map<Tool, Pair>();
    const first: Record<string, number> = {};
    for (const tool of available) {
      const work = join(dir, tool);
      const p = { a: join(work, 'A'), b: join(work, 'B'), work };
      mkdirSync(work);
      for (const side of [p.a, p.b]) {
        const r = run(['cp', '-a', gen, side]);
        if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
      }
      pairs.set(tool, p);
      say(`${tool} (${version(tool)}): first sync`);
      const r = timedSync(tool, p, true);
      first[tool] = r.seconds;
      if (!okStatus(tool, r.status)) {
        absent[tool] = `first sync failed (exit ${String(r.status)})`;
        pairs.delete(tool);
      }
    }
    rmSync(gen, { recursive: true, force: true });

    const times = new Map<Tool, number[]>();
    /** CPU seconds (user and system) of each timed run, where /proc tells. */
    const cpus = new Map<Tool, number[]>();
    const kept = new Map<Tool, number>();
    const statuses = new Map<Tool, (number | null)[]>();
    let conflictsTotal = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const changes = planChanges(live, pool, round);
      conflictsTotal += changes.conflicts.length;
      const when = new Date(Date.now() - 60_000 + round * 1000);
      for (const p of pairs.values()) {
        applyChanges(p.a, changes.local, when);
        applyChanges(p.b, changes.server, new Date(when.getTime() + 500));
      }
      // Alternate the order of the tools each round, so none always runs on the coldest cache.
      const order = [...pairs.keys()];
      if (round % 2 === 0) order.reverse();
      for (const tool of order) {
        const p = pairs.get(tool)!;
        const r = timedSync(tool, p, false);
        times.set(tool, [...(times.get(tool) ?? []), r.seconds]);
        if (r.cpu !== undefined) cpus.set(tool, [...(cpus.get(tool) ?? []), r.cpu]);
        statuses.set(tool, [...(statuses.get(tool) ?? []), r.status]);
        const k = conflictsKept(p.a, changes.conflicts);
        kept.set(tool, (kept.get(tool) ?? 0) + k);
        say(
          `round ${round}: ${tool} sync ${r.seconds.toFixed(3)} s` +
            (r.cpu === undefined ? '' : ` (CPU ${r.cpu.toFixed(2)} s)`) +
            ` (exit ${String(r.status)}), ` +
            `conflicts kept ${k}/${changes.conflicts.length}`,
        );
      }
    }

    const result: Record<string, unknown> = {};
    for (const tool of TOOLS) {
      const ts = times.get(tool);
      result[tool] =
        ts === undefined
          ? { missing: absent[tool] ?? 'not run' }
          : {
              version: version(tool),
              firstSyncSeconds: round3(first[tool]!),
              secondSyncSeconds: round3(median(ts)),
              runs: ts.map(round3),
              ...(cpus.has(tool)
                ? {
                    secondSyncCpuSeconds: round3(median(cpus.get(tool)!)),
                    cpuRuns: cpus.get(tool)!.map(round3),
                  }
                : {}),
              exit: statuses.get(tool),
              conflictsKept: kept.get(tool) ?? 0,
            };
    }
    const peers = (['unison', 'rclone'] as const).filter((t) => times.has(t));
    const fastest = peers.sort((x, y) => median(times.get(x)!) - median(times.get(y)!))[0];
    const tether = times.get('tether');
    const speedup =
      fastest !== undefined && tether !== undefined
        ? median(times.get(fastest)!) / median(tether)
        : null;
    const before = times.get('tether-before');
    const overBefore =
      before !== undefined && tether !== undefined ? median(tether) / median(before) : null;
    if (overBefore !== null) {
      say(`tether takes ${(overBefore * 100).toFixed(1)}% of tether-before's time (medians)`);
    }
    const cpuBefore = cpus.get('tether-before');
    const cpuTether = cpus.get('tether');
    const cpuOverBefore =
      cpuBefore !== undefined && cpuTether !== undefined
        ? median(cpuTether) / median(cpuBefore)
        : null;
    if (cpuOverBefore !== null) {
      say(
        `tether takes ${(cpuOverBefore * 100).toFixed(1)}% of tether-before's CPU time (medians)`,
      );
    }
    say(
      speedup === null
        ? 'no ratio: tether or both peers did not run'
        : `tether is ${speedup.toFixed(2)}x faster than ${fastest!} (target: at least 2x)`,
    );
    process.stdout.write(
      JSON.stringify({
        bench: 'sync',
        files: FILES,
        megabytes: MB,
        changesPerSide: CHANGES,
        conflicts: conflictsTotal,
        rounds: ROUNDS,
        ...result,
        fasterPeer: fastest ?? null,
        speedupOverFasterPeer: speedup === null ? null : round3(speedup),
        tetherOverPeerTime: speedup === null ? null : round3(1 / speedup),
        tetherOverBeforeTime: overBefore === null ? null : round3(overBefore),
        tetherOverBeforeCpu: cpuOverBefore === null ? null : round3(cpuOverBefore),
        target: 2,
        met: speedup !== null && speedup >= 2,
      }) + '\n',
    );
  } finally {
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

main();

// `tether sync-dirs A B`: one run of the two-replica synchroniser, start to finish.
//
//   guard → binding → finish an interrupted run → scan A (hashed, incremental, contents kept
//   in the store) and B (stamps; ids from base where the stamp matches) → hash paths changed
//   on both sides → merge → automatic text merges → persist the plan → apply → record
//   conflicts → advance base (MERGE.md's base rule) → move the refs.
//
// A run killed at any instant leaves either no plan (nothing was changed yet, or the run had
// committed) or a persisted plan with marks, which the next run finishes before it scans.
// Automatic text merges are written to both replicas before the plan is made (guarded like
// any action), so the merge then sees the same content on both sides: no conflict, and base
// advances to the merged text by the ordinary rule.
import { resolve } from 'node:path';
import { TetherError } from '../errors.js';
import { diffTrees } from '../merge/diff.js';
import { merge } from '../merge/merge.js';
import { inferRenames } from '../merge/renames.js';
import type { Conflict, Path, Plan } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { EMPTY_TREE_ID, hashBytes, type Hash, type TreeReader } from '../tree/index.js';
import {
  applyActions,
  advanceBase,
  touched,
  type ApplyHooks,
  type ApplyResult,
  type Failure,
} from './apply.js';
import { tryMergeText } from './automerge.js';
import { hashBothChanged, hashRenameCandidates } from '../scan/both-changed.js';
import { checkBinding } from './binding.js';
import { ConflictStore } from './conflict-store.js';
import { checkReplicas } from './guard.js';
import { releaseSyncLock, takeSyncLock } from './lock.js';
import type { PathProblem } from '../scan/path-problem.js';
import { PlanLog, type Status } from './plan-log.js';
import { REF_BASE, REF_LOCAL, REF_SERVER, asBytes } from '../store/kv.js';
import { DirReplica } from '../replica/dir.js';
import type { Replica } from '../replica/replica.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { MTIME_WINDOW_NS, mtimeWindowOf, stableStatOf } from '../scan/stamp.js';
import { HeldRecords, learnIds, scanReplica, type ScanOptions } from '../scan/scan-replica.js';

export type SyncPhase = 'resume' | 'scan' | 'merge' | 'apply';

export interface SyncDirsOptions {
  readonly dryRun?: boolean;
  /** Allow a first run between two trees that differ in more than a tenth of their paths. */
  readonly initial?: boolean;
  /** Override the store's automatic text merge setting for this run (and remember it). */
  readonly automerge?: boolean;
  /** The run's start (variant names carry it); defaults to now. */
  readonly now?: Date;
  readonly hooks?: ApplyHooks;
  readonly onPhase?: (phase: SyncPhase) => void;
  /** Keep and use the scan caches (default true; false scans everything as if new). */
  readonly scanCache?: boolean;
  /**
   * An empty server replica is expected (the caller's base is the empty tree, so an unmounted
   * share can delete nothing): the guard still refuses a missing one.
   */
  readonly emptyServerOk?: boolean;
  /** Local files never fetched (a mount's placeholders): see ScanOptions.placeholder. */
  readonly placeholder?: ScanOptions['placeholder'];
  /** A path that cannot be read stops the run (default: it is skipped and reported). */
  readonly strict?: boolean;
}

export interface SyncSummary {
  readonly first: boolean;
  readonly plan: Plan;
  /** Actions that changed something (0 on a dry run). */
  readonly applied: number;
  readonly failures: readonly Failure[];
  /** Paths that could not be read, left as they are this run (path-problem.ts). */
  readonly problems: readonly PathProblem[];
  /** Conflicts of this run that wait for a decision (variants made). */
  readonly conflicts: readonly Conflict[];
  /** Conflicts that needed no decision (modify/delete, directory-delete, rename/rename). */
  readonly notices: readonly Conflict[];
  readonly autoMerged: readonly Path[];
  /** Open conflicts in the store after the run (this run's and earlier ones). */
  readonly open: number;
  /** An interrupted earlier run was finished first. */
  readonly resumed: boolean;
}

/** Share of differing paths above which a first run wants --initial. */
const WILD = 0.1;
const SETTINGS = Buffer.from('automerge');

function countPaths(reader: TreeReader, id: Hash): number {
  let n = 0;
  for (const e of reader.readTree(id)) {
    n++;
    if (e.kind === 'dir' && e.id !== undefined) n += countPaths(reader, e.id);
  }
  return n;
}

/** The store's automatic text merge setting (on unless turned off). */
export function automergeEnabled(store: Store): boolean {
  const v = asBytes(store.db('sync').get(SETTINGS));
  return v === undefined || v[0] !== 0;
}

export async function setAutomerge(store: Store, on: boolean): Promise<void> {
  await store.db('sync').put(SETTINGS, Buffer.from([on ? 1 : 0]));
}

export async function runSyncDirs(
  store: Store,
  localDir: string,
  serverDir: string,
  opts: SyncDirsOptions = {},
): Promise<SyncSummary> {
  const local = resolve(localDir);
  const server = resolve(serverDir);
  const dry = opts.dryRun === true;
  // Only a first run (no base yet) may be given an empty server replica, and only by name;
  // or a caller whose base is empty by design (a volume mounted on an empty remote).
  await checkReplicas(
    local,
    server,
    opts.emptyServerOk === true
      ? {}
      : {
          firstRun: store.getRef(REF_BASE) === undefined,
          ...(opts.initial === undefined ? {} : { initial: opts.initial }),
        },
  );
  await checkBinding(store, { local, server }, !dry);
  if (!dry) await takeSyncLock(store.dir, 'tether sync-dirs');
  try {
    return await syncLocked(store, local, server, dry, opts);
  } finally {
    if (!dry) await releaseSyncLock(store.dir);
  }
}

async function syncLocked(
  store: Store,
  local: string,
  server: string,
  dry: boolean,
  opts: SyncDirsOptions,
): Promise<SyncSummary> {
  if (opts.automerge !== undefined && !dry) await setAutomerge(store, opts.automerge);
  const automerge = opts.automerge ?? automergeEnabled(store);
  const windows = await mtimeWindows(store, local, server, dry);
  const serverStable = await stableStatOf(server);
  const replicas = {
    local: new DirReplica(local, 'local', windows.local, true),
    server: new DirReplica(server, 'server', windows.server),
  };
  const log = new PlanLog(store.db('plans'));
  const conflicts = new ConflictStore(store.db('conflicts'));

  // An interrupted run is finished first, with its own plan and its own run start.
  let resumed = false;
  // The finished run's failures are reported with this run's: a skipped action is never silent.
  let resumedFailures: readonly Failure[] = [];
  const pending = log.pending();
  if (pending !== undefined && !dry) {
    opts.onPhase?.('resume');
    // (Written before the run was cut short, unless it was cut short right before that.)
    await recordConflicts(conflicts, pending.plan);
    const r = await applyActions(pending.plan, replicas, log, opts.hooks);
    await commit(store, log, conflicts, pending.plan, r);
    resumedFailures = r.failures;
    resumed = true;
  }

  const now = opts.now ?? new Date();
  const lastRun = lastRunStart(store);
  // The real clock, whatever `now` says: racy stamps are judged against it.
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const baseRef = store.getRef(REF_BASE);
  const first = baseRef === undefined;
  const base = baseRef ?? EMPTY_TREE_ID;
  const autoMerged: Path[] = [];

  let plan: Plan | undefined;
  let scans: Record<string, Hash> = {};
  const caching = !dry && opts.scanCache !== false;
  // The scans' cache records, written with the refs at the end (one commit, not three).
  let held: HeldRecords[] = [];
  let problems: PathProblem[] = [];
  const strict = opts.strict === true;
  for (let round = 0; plan === undefined; round++) {
    const localProblems: PathProblem[] = [];
    const serverProblems: PathProblem[] = [];
    const heldLocal = new HeldRecords();
    const heldServer = new HeldRecords();
    const variants = new Set(
      conflicts.list().flatMap((c) => (c.variantPath === undefined ? [] : [c.variantPath])),
    );
    opts.onPhase?.('scan');
    const prevLocal = store.getRef(REF_LOCAL);
    const scanLocal = (): Promise<Hash> =>
      scanReplica(store, local, {
        content: 'hash',
        base,
        known: prevLocal === undefined ? [] : [prevLocal],
        exclude: variants,
        ...(strict ? {} : { problems: localProblems }),
        ...(caching ? { cache: store.cacheDb('sync-local'), hold: heldLocal } : {}),
        removeTemps: !dry,
        mtimeWindowNs: windows.local,
        ...(opts.placeholder === undefined ? {} : { placeholder: opts.placeholder }),
        ...(lastRun === undefined ? {} : { racySinceNs: lastRun - windows.local }),
        // Local contents are kept: they are the base of later text merges and of `show --variant base`.
        read: async (abs, _path, st) => (await store.putBlobFile(abs, st.size)).id,
      });
    const prevServer = store.getRef(REF_SERVER);
    const scanServer = (known: readonly Hash[]): Promise<Hash> =>
      scanReplica(store, server, {
        content: 'stamp',
        ...(lastRun === undefined ? {} : { racySinceNs: lastRun - windows.server }),
        removeTemps: !dry,
        mtimeWindowNs: windows.server,
        stableStat: serverStable,
        base,
        known,
        ...(strict ? {} : { problems: serverProblems }),
        ...(caching ? { cache: store.cacheDb('sync-server'), hold: heldServer } : {}),
      });
    // Both replicas at once: listing runs on I/O threads, and a slow share overlaps the disk.
    const [localId, scanned] = await Promise.all([
      scanLocal(),
      scanServer(prevServer === undefined ? [] : [prevServer]),
    ]);
    let serverId = scanned;
    serverId = await hashBothChanged(store, base, localId, serverId, server, {
      strict,
      problems: serverProblems,
    });
    serverId = await hashRenameCandidates(store, base, serverId, server);
    if (serverId !== scanned && caching) {
      await learnIds(store, store.cacheDb('sync-server'), scanned, serverId, heldServer);
    }
    if (first) checkFirstRun(store, localId, serverId, opts.initial === true);

    opts.onPhase?.('merge');
    // No journal outside a mount: local renames are read off the trees, like the server's.
    const localRenames = first ? [] : inferRenames(store, base, localId);
    const p = merge(store, base, localId, serverId, { now, localVariants: variants, localRenames });
    if (automerge && !dry && round === 0) {
      const merged = await autoMerge(store, p, replicas, now);
      if (merged.length > 0) {
        autoMerged.push(...merged.map((c) => c.path));
        for (const c of merged) {
          await conflicts.record({
            conflict: c,
            resolution: 'auto-merge',
            at: now.getTime(),
            result: null,
          });
        }
        continue; // both replicas changed: scan again (cheap, incremental) and merge
      }
    }
    plan = p;
    problems = [
      ...localProblems.map((x) => ({ ...x, side: 'local' })),
      ...serverProblems.map((x) => ({ ...x, side: 'server' })),
    ];
    scans = { [REF_LOCAL]: localId, [REF_SERVER]: serverId };
    held = [heldLocal, heldServer];
  }

  const decide = plan.conflicts.filter((c) => !c.informational);
  const notices = plan.conflicts.filter((c) => c.informational);
  if (dry) {
    return {
      first,
      plan,
      applied: 0,
      failures: [],
      problems,
      conflicts: decide,
      notices,
      autoMerged,
      open: conflicts.list().length,
      resumed,
    };
  }

  opts.onPhase?.('apply');
  await log.begin(plan, now);
  const skip = actionsOn(plan, problems);
  await recordConflicts(conflicts, plan, skip);
  const r = await applyActions(plan, replicas, log, opts.hooks, skip);
  await commit(store, log, conflicts, plan, r, scans, () => {
    for (const h of held) h.write();
  });
  setLastRunStart(store, startNs);
  return {
    first,
    plan,
    applied: r.applied,
    failures: [...resumedFailures, ...r.failures],
    problems,
    conflicts: decide,
    notices,
    autoMerged,
    open: conflicts.list().length,
    resumed,
  };
}

const WINDOWS = Buffer.from('mtime-windows');
const LAST_RUN = Buffer.from('last-run');

/** When the last completed run started (ns since the epoch), if there was one. */
function lastRunStart(store: Store): bigint | undefined {
  const v = asBytes(store.db('sync').get(LAST_RUN));
  return v?.length === 8 ? v.readBigInt64LE(0) : undefined;
}

/** Committed with the run's other writes (the store is flushed before it closes). */
function setLastRunStart(store: Store, ns: bigint): void {
  const v = Buffer.alloc(8);
  v.writeBigInt64LE(ns, 0);
  void store.db('sync').put(LAST_RUN, v);
}

/**
 * Each replica's mtime granularity (sshfs keeps whole seconds): probed on every real run,
 * remembered for dry runs, which write nothing.
 */
async function mtimeWindows(
  store: Store,
  local: string,
  server: string,
  dry: boolean,
): Promise<{ local: bigint; server: bigint }> {
  const db = store.db('sync');
  if (dry) {
    const v = asBytes(db.get(WINDOWS));
    if (v?.length === 16) return { local: v.readBigUInt64LE(0), server: v.readBigUInt64LE(8) };
    return { local: MTIME_WINDOW_NS, server: MTIME_WINDOW_NS };
  }
  const probe = TEMP_PREFIX + 'probe-' + String(process.pid);
  const w = {
    local: await mtimeWindowOf(local, probe),
    server: await mtimeWindowOf(server, probe),
  };
  const v = Buffer.alloc(16);
  v.writeBigUInt64LE(w.local, 0);
  v.writeBigUInt64LE(w.server, 8);
  // Committed with the run's other writes (the store is flushed before it closes).
  if (!v.equals(asBytes(db.get(WINDOWS)) ?? Buffer.alloc(0))) void db.put(WINDOWS, v);
  return w;
}

/**
 * Record the plan's conflicts that wait for a decision, before any variant is made: the scan
 * leaves recorded variants out, so a variant is never taken for a user's file (and uploaded),
 * however the run ends. Recording the same plan again (a resumed run) changes nothing.
 */
async function recordConflicts(
  conflicts: ConflictStore,
  plan: Plan,
  skip: ReadonlySet<number> = new Set(),
): Promise<void> {
  const skipped = new Set([...skip].map((i) => plan.actions[i]!.path));
  for (const c of plan.conflicts) {
    if (!c.informational && !skipped.has(c.path)) await conflicts.put(c);
  }
}

/**
 * The plan's actions on a path that could not be read, or below one: skipped (base does not
 * move there), since what is there was never seen. An action above one (a directory removed
 * on the other side) fails by itself: the directory is not empty.
 */
function actionsOn(plan: Plan, problems: readonly PathProblem[]): Set<number> {
  const out = new Set<number>();
  if (problems.length === 0) return out;
  const at = new Set(problems.map((p) => p.path));
  const under = (p: Path): boolean => {
    for (let q = p; ;) {
      if (at.has(q)) return true;
      const slash = q.lastIndexOf('/');
      if (slash < 0) return false;
      q = q.slice(0, slash);
    }
  };
  plan.actions.forEach((a, i) => {
    if (touched(a).some(under)) out.add(i);
  });
  return out;
}

/**
 * The local version of conflict \`c\` is still where it was, so its record (written before the
 * apply) can go and the next run plans the path again: the action that moved it away (into
 * its variant, or overwriting it with the server's metadata) did not succeed.
 */
function localVersionStays(plan: Plan, statuses: readonly Status[], c: Conflict): boolean {
  let moved: boolean | undefined;
  let failed = false;
  plan.actions.forEach((a, i) => {
    if (a.path !== c.path) return;
    const ok = statuses[i] === 'ok';
    if (!ok) failed = true;
    if (a.op === 'variant' && a.variantPath === c.variantPath) moved = ok;
    else if (c.variantPath === undefined && a.side === 'local' && ok) moved = true;
  });
  return moved === undefined ? failed : !moved;
}

/** Record the plan's conflicts, advance base by what succeeded, and forget the plan. */
async function commit(
  store: Store,
  log: PlanLog,
  conflicts: ConflictStore,
  plan: Plan,
  applied: Pick<ApplyResult, 'statuses' | 'copied'>,
  scans: Record<string, Hash> = {},
  records?: () => void,
): Promise<void> {
  const { statuses } = applied;
  const failedAt = new Set<Path>();
  plan.actions.forEach((a, i) => {
    if (statuses[i] !== 'ok') failedAt.add(a.path);
  });
  for (const c of plan.conflicts) {
    if (!c.informational) {
      // Recorded before the apply; it stays unless the local version never moved.
      if (localVersionStays(plan, statuses, c)) await conflicts.delete(c);
    } else if (!failedAt.has(c.path)) {
      await conflicts.record({
        conflict: c,
        resolution: 'server',
        at: Date.now(),
        result: c.server,
      });
    }
  }
  const newBase = advanceBase(store, plan, statuses, applied.copied);
  await store.flush();
  // Base and the last scans move together, in one transaction, with the scans' cache records.
  await store.setRefs({ ...scans, [REF_BASE]: newBase }, records);
  await log.clear();
}

/** A first run between two trees that differ wildly is a mistake more often than not. */
function checkFirstRun(store: Store, local: Hash, server: Hash, initial: boolean): void {
  if (initial || local === EMPTY_TREE_ID || server === EMPTY_TREE_ID) return;
  const total = Math.max(countPaths(store, local), countPaths(store, server));
  // Content, type or presence: copies made without keeping times are still the same tree.
  const differ = diffTrees(store, local, server).filter(
    (c) => c.status !== 'M' || c.fields.includes('content'),
  ).length;
  if (total > 0 && differ / total > WILD) {
    throw new TetherError(
      'EUSAGE',
      `this is the first sync of these replicas and they differ in ${differ} of ${total} paths: ` +
        `are these the right two directories? If so, run again with --initial ` +
        `(nothing is deleted on a first run; differing files are kept as conflict variants)`,
      { differ, total },
    );
  }
}

/**
 * Merge text files edited on both sides in regions that do not overlap, writing the result
 * to both replicas. Returns the conflicts so resolved (those writes succeeded on both sides).
 */
async function autoMerge(
  store: Store,
  plan: Plan,
  r: { local: Replica; server: Replica },
  now: Date,
): Promise<Conflict[]> {
  const done: Conflict[] = [];
  for (const c of plan.conflicts) {
    if (c.kind !== 'edit/edit' || c.informational) continue;
    const { base, local, server } = c;
    if (base?.kind !== 'file' || local?.kind !== 'file' || server?.kind !== 'file') continue;
    if (base.id === undefined || !store.has(base.id)) continue;
    let baseBytes: Buffer;
    let localBytes: Buffer;
    let serverBytes: Buffer;
    try {
      baseBytes = await store.readBlob(base.id);
      localBytes = await readExact(r.local, c.path, local.id);
      serverBytes = await readExact(r.server, c.path, server.id);
    } catch {
      continue; // changed since the scan, or unreadable: it stays a conflict
    }
    const out = tryMergeText(baseBytes, localBytes, serverBytes);
    if (!out.merged) continue;
    const mtime = BigInt(now.getTime()) * 1_000_000n;
    const okL = await r.local.writeContent(c.path, local, out.content, mtime);
    if (!okL.ok) continue;
    const okS = await r.server.writeContent(c.path, server, out.content, mtime);
    if (!okS.ok) continue; // local has the merge; the next scan sees a local edit vs server's
    await store.putBlob(out.content);
    done.push(c);
  }
  return done;
}

async function readExact(r: Replica, path: Path, id: Hash | undefined): Promise<Buffer> {
  const data = await r.read(path);
  if (id !== undefined && hashBytes(data) !== id) {
    throw new TetherError('ECHANGED', 'changed since the scan');
  }
  return data;
}

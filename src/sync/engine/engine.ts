// One run of the two-replica synchroniser, whatever the two sides are:
//
//   finish an interrupted run → scan both sides → hash server paths changed on both sides and
//   rename candidates → merge → automatic text merges → persist the plan → apply → record
//   conflicts → advance base (MERGE.md's base rule) → move the refs.
//
// A run killed at any instant leaves either no plan (nothing was changed yet, or the run had
// committed) or a persisted plan with marks, which the next run finishes before it scans.
// Automatic text merges are written to both replicas before the plan is made (guarded like
// any action), so the merge then sees the same content on both sides: no conflict, and base
// advances to the merged text by the ordinary rule. A dry run goes the same way up to the
// plan, changing nothing: its text merges go into the scanned trees instead of the replicas.
import { inferRenames } from '../../merge/renames.js';
import { merge } from '../../merge/merge.js';
import type { Conflict, Path, Plan } from '../../merge/plan.js';
import { hashBothChanged, hashRenameCandidates } from '../../scan/both-changed.js';
import type { PathProblem } from '../../scan/path-problem.js';
import { HeldRecords } from '../../scan/scan-replica.js';
import { REF_BASE, REF_LOCAL, REF_SERVER } from '../../store/kv.js';
import { EMPTY_TREE_ID, type Hash } from '../../tree/index.js';
import { checkServerAccess, isDenied, rootDenied } from '../auth-trouble.js';
import { applyActions, type ApplyHooks, type Failure, type Note } from '../apply.js';
import { ConflictStore } from '../conflict-store.js';
import { PlanLog } from '../plan-log.js';
import { actionsOn, commit, recordConflicts, type CommitEnv } from './commit.js';
import { checkFirstRun } from './first-run.js';
import { hasherOf, nsOf, type Clock, type EngineStore, type Side, type Sides } from './ports.js';
import { automergeEnabled, lastRunStart, setAutomerge, setLastRunStartSync } from './settings.js';
import { findTextMerges, mergedTrees, writeTextMerges } from './text-merges.js';

export type SyncPhase = 'resume' | 'scan' | 'merge' | 'apply' | 'commit';

export interface EngineOptions {
  readonly dryRun?: boolean;
  /** Allow a first run between two trees that differ in more than a tenth of their paths. */
  readonly initial?: boolean;
  /** Override the store's automatic text merge setting for this run (and remember it). */
  readonly automerge?: boolean;
  /** The run's start (variant names carry it); defaults to the clock's now. */
  readonly now?: Date;
  readonly hooks?: ApplyHooks;
  readonly onPhase?: (phase: SyncPhase) => void;
  /** A path that cannot be read stops the run (default: it is skipped and reported). */
  readonly strict?: boolean;
}

export interface SyncSummary {
  readonly first: boolean;
  readonly plan: Plan;
  /** Actions that changed something (0 on a dry run). */
  readonly applied: number;
  readonly failures: readonly Failure[];
  /** Actions done another way than planned: hard links the side refused, made as copies. */
  readonly notes: readonly Note[];
  /** Paths that could not be read, left as they are this run (path-problem.ts). */
  readonly problems: readonly PathProblem[];
  /** Conflicts of this run that wait for a decision (variants made). */
  readonly conflicts: readonly Conflict[];
  /** Conflicts that needed no decision (modify/delete, directory-delete, rename/rename). */
  readonly notices: readonly Conflict[];
  /** Text files merged automatically (on a dry run: that would be). */
  readonly autoMerged: readonly Path[];
  /** Open conflicts in the store after the run (this run's and earlier ones). */
  readonly open: number;
  /** An interrupted earlier run was finished first. */
  readonly resumed: boolean;
}

export interface Engine {
  readonly store: EngineStore;
  readonly sides: Sides;
  readonly clock: Clock;
}

/** What the scans of one round found. */
interface Scanned {
  readonly local: Hash;
  readonly server: Hash;
  readonly problems: PathProblem[];
  readonly held: HeldRecords[];
}

/** The state of one run, shared by its steps. */
interface Run extends CommitEnv {
  readonly sides: Sides;
  readonly opts: EngineOptions;
  readonly dry: boolean;
  readonly now: Date;
  readonly base: Hash;
  readonly first: boolean;
  readonly lastRunNs: bigint | undefined;
}

export async function runEngine(engine: Engine, opts: EngineOptions = {}): Promise<SyncSummary> {
  const { store, sides, clock } = engine;
  const dry = opts.dryRun === true;
  if (opts.automerge !== undefined && !dry) await setAutomerge(store, opts.automerge);
  const log = new PlanLog(store.db('plans'));
  const conflicts = new ConflictStore(store.db('conflicts'));
  const env: CommitEnv = { store, log, conflicts, clock };

  // An interrupted run is finished first, with its own plan and its own run start; its
  // failures are reported with this run's (a skipped action is never silent).
  const resumedFailures = dry ? undefined : await resume(env, sides, opts);

  // The clock's time, whatever `now` says: racy stamps are judged against it.
  const startNs = nsOf(clock.now());
  const baseRef = store.getRef(REF_BASE);
  const run: Run = {
    ...env,
    sides,
    opts,
    dry,
    now: opts.now ?? clock.now(),
    base: baseRef ?? EMPTY_TREE_ID,
    first: baseRef === undefined,
    lastRunNs: lastRunStart(store),
  };
  const { plan, scanned, autoMerged } = await planRun(run);
  const summary = {
    first: run.first,
    plan,
    problems: scanned.problems,
    conflicts: plan.conflicts.filter((c) => !c.informational),
    notices: plan.conflicts.filter((c) => c.informational),
    autoMerged,
    resumed: resumedFailures !== undefined,
  };
  if (dry) {
    return { ...summary, applied: 0, failures: [], notes: [], open: conflicts.list().length };
  }

  opts.onPhase?.('apply');
  const skip = actionsOn(plan, scanned.problems);
  // Both durable before any action, in one commit: the plan, then its conflicts (a run killed
  // between the two, were they split, finishes the plan and records them: resume()).
  await Promise.all([log.begin(plan, run.now), recordConflicts(conflicts, plan, skip)]);
  const replicas = { local: sides.local.replica, server: sides.server.replica };
  const r = await applyActions(plan, replicas, log, opts.hooks, skip);
  const scans = { [REF_LOCAL]: scanned.local, [REF_SERVER]: scanned.server };
  opts.onPhase?.('commit');
  await commit(env, plan, r, scans, () => {
    for (const h of scanned.held) h.write();
    setLastRunStartSync(store, startNs);
  });
  return {
    ...summary,
    applied: r.applied,
    failures: [...(resumedFailures ?? []), ...r.failures],
    notes: r.notes,
    open: conflicts.list().length,
  };
}

/** Finish a persisted plan of an interrupted run; its failures, or undefined when none was. */
async function resume(
  env: CommitEnv,
  sides: Sides,
  opts: EngineOptions,
): Promise<readonly Failure[] | undefined> {
  const pending = env.log.pending();
  if (pending === undefined) return undefined;
  opts.onPhase?.('resume');
  // (Written before the run was cut short, unless it was cut short right before that.)
  await recordConflicts(env.conflicts, pending.plan);
  const replicas = { local: sides.local.replica, server: sides.server.replica };
  const r = await applyActions(pending.plan, replicas, env.log, opts.hooks);
  await commit(env, pending.plan, r);
  return r.failures;
}

/**
 * Scan and merge; then, once, merge texts: written to both sides and planned again from a
 * fresh scan, or on a dry run put into the scanned trees and merged again.
 */
async function planRun(
  run: Run,
  textMerges = run.opts.automerge ?? automergeEnabled(run.store),
): Promise<{ plan: Plan; scanned: Scanned; autoMerged: Path[] }> {
  const variants = new Set(
    run.conflicts.list().flatMap((c) => (c.variantPath === undefined ? [] : [c.variantPath])),
  );
  run.opts.onPhase?.('scan');
  const scanned = await scanBoth(run, variants);
  run.opts.onPhase?.('merge');
  const plan = mergeScans(run, scanned, variants);
  const replicas = { local: run.sides.local.replica, server: run.sides.server.replica };
  const merges = textMerges ? await findTextMerges(run.store, plan, replicas) : [];
  if (merges.length === 0) return { plan, scanned, autoMerged: [] };
  const mtimeNs = nsOf(run.now);
  if (run.dry) {
    const after = { ...scanned, ...mergedTrees(run.store, scanned, merges, mtimeNs) };
    const autoMerged = merges.map((m) => m.conflict.path);
    return { plan: mergeScans(run, after, variants), scanned: after, autoMerged };
  }
  const done = await writeTextMerges(run.store, merges, replicas, mtimeNs);
  for (const c of done) {
    await run.conflicts.record({
      conflict: c,
      resolution: 'auto-merge',
      at: run.now.getTime(),
      result: null,
    });
  }
  if (done.length === 0) return { plan, scanned, autoMerged: [] };
  // Both replicas changed: scan again (cheap, incremental) and merge.
  const next = await planRun(run, false);
  return { ...next, autoMerged: done.map((c) => c.path) };
}

function mergeScans(run: Run, s: Scanned, variants: ReadonlySet<Path>): Plan {
  // No journal outside a mount: local renames are read off the trees, like the server's.
  const localRenames = run.first ? [] : inferRenames(run.store, run.base, s.local);
  return merge(run.store, run.base, s.local, s.server, {
    now: run.now,
    localVariants: variants,
    localRenames,
    linksSeen: {
      local: run.sides.local.linksSeen !== false,
      server: run.sides.server.linksSeen !== false,
    },
  });
}

/** Both sides at once (a slow share overlaps the disk), then the server's ids the merge needs. */
async function scanBoth(run: Run, variants: ReadonlySet<Path>): Promise<Scanned> {
  const strict = run.opts.strict === true;
  const problems = { local: [] as PathProblem[], server: [] as PathProblem[] };
  const held = { local: new HeldRecords(), server: new HeldRecords() };
  const scanSide = (side: Side, which: 'local' | 'server', exclude: ReadonlySet<Path>) => {
    const prev = run.store.getRef(which === 'local' ? REF_LOCAL : REF_SERVER);
    return side.scan({
      base: run.base,
      known: prev === undefined ? [] : [prev],
      exclude,
      problems: strict ? undefined : problems[which],
      hold: held[which],
      dry: run.dry,
      lastRunNs: run.lastRunNs,
      startNs: nsOf(run.clock.now()),
    });
  };
  const { local: L, server: S } = run.sides;
  const [local, scanned] = await Promise.all([
    scanSide(L, 'local', variants),
    // A server root that refuses this user is authentication trouble (auth-trouble.ts).
    scanSide(S, 'server', new Set()).catch((err: unknown) => {
      throw isDenied(err) ? rootDenied(S.where, err) : err;
    }),
  ]);
  checkServerAccess(run.store, S.where, scanned, problems.server);
  const files = hasherOf(S);
  let server = await hashBothChanged(run.store, run.base, local, scanned, files, {
    strict,
    problems: problems.server,
  });
  server = await hashRenameCandidates(run.store, run.base, server, files);
  if (server !== scanned && !run.dry) await S.learn?.(scanned, server, held.server);
  if (run.first) checkFirstRun(run.store, local, server, run.opts.initial === true);
  return {
    local,
    server,
    problems: [
      ...problems.local.map((x) => ({ ...x, side: 'local' })),
      ...problems.server.map((x) => ({ ...x, side: 'server' })),
    ],
    held: [held.local, held.server],
  };
}

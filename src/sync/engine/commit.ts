// The end of a run: the plan's conflicts recorded before its actions run, the actions on
// unreadable paths skipped, and, after the apply, base advanced by what succeeded and the
// refs moved in one transaction (MERGE.md's base rule, invariants 6 and 7).
import type { Conflict, Path, Plan } from '../../merge/plan.js';
import type { PathProblem } from '../../scan/path-problem.js';
import { REF_BASE } from '../../store/kv.js';
import type { Hash } from '../../tree/index.js';
import { advanceBase, touched, type ApplyResult } from '../apply.js';
import type { ConflictStore } from '../conflict-store.js';
import type { PlanLog, Status } from '../plan-log.js';
import type { Clock, EngineStore } from './ports.js';

/**
 * Record the plan's conflicts that wait for a decision, before any variant is made: the scan
 * leaves recorded variants out, so a variant is never taken for a user's file (and uploaded),
 * however the run ends. Recording the same plan again (a resumed run) changes nothing. The
 * writes are issued at once, in one commit with any issued in the same turn (the plan's).
 */
export function recordConflicts(
  conflicts: ConflictStore,
  plan: Plan,
  skip: ReadonlySet<number> = new Set(),
): Promise<void> {
  const skipped = new Set([...skip].map((i) => plan.actions[i]!.path));
  return conflicts.putAll(plan.conflicts.filter((c) => !c.informational && !skipped.has(c.path)));
}

/**
 * The plan's actions on a path that could not be read, or below one: skipped (base does not
 * move there), since what is there was never seen. An action above one (a directory removed
 * on the other side) fails by itself: the directory is not empty.
 */
export function actionsOn(plan: Plan, problems: readonly PathProblem[]): Set<number> {
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
 * The local version of conflict `c` is still where it was, so its record (written before the
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

export interface CommitEnv {
  readonly store: EngineStore;
  readonly log: PlanLog;
  readonly conflicts: ConflictStore;
  readonly clock: Clock;
}

/**
 * Record the plan's conflicts, advance base by what succeeded, and forget the plan: base, the
 * last scans, `records` (run inside the transaction) and the plan's removal commit at once.
 */
export async function commit(
  env: CommitEnv,
  plan: Plan,
  applied: Pick<ApplyResult, 'statuses' | 'copied'>,
  scans: Record<string, Hash> = {},
  records?: () => void,
): Promise<void> {
  const { store, log, conflicts } = env;
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
        at: env.clock.now().getTime(),
        result: c.server,
      });
    }
  }
  const newBase = advanceBase(store, plan, statuses, applied.copied);
  await Promise.all([store.flush(), log.flush()]);
  // Base and the last scans move together, in one transaction, with the scans' cache records
  // and the plan's removal: a run killed now either finishes its plan again or has none.
  await store.setRefs({ ...scans, [REF_BASE]: newBase }, () => {
    records?.();
    log.clearSync();
  });
}

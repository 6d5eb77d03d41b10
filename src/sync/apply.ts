// Executing a plan against two replicas (MERGE.md invariants 6, 7, 9). The plan was persisted
// before this runs (plan-log.ts); each action is run unless an earlier, interrupted run
// already marked it, and marked after it. An action whose target is not as the plan saw it
// fails for that path only — never an overwrite — and the base does not advance there.
import type { Action, BaseUpdate, Plan } from '../merge/plan.js';
import { assertNever } from '../errors.js';
import { display, type Hash } from '../tree/index.js';
import { updateTree, type TreeStore } from './base-update.js';
import type { PlanLog, Status } from './plan-log.js';
import type { Outcome, Replica } from './replica.js';

export interface ApplyHooks {
  /** Called before action `i` runs: tests change a target here, between scan and apply. */
  readonly beforeAction?: (i: number, action: Action) => Promise<void> | void;
  /** Progress: actions finished so far out of the plan's total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Failure {
  readonly index: number;
  readonly action: Action;
  readonly reason: string;
}

export interface ApplyResult {
  readonly statuses: readonly Status[];
  /** Actions that changed something in this run (not ones found already done). */
  readonly applied: number;
  readonly failures: readonly Failure[];
}

export interface Replicas {
  readonly local: Replica;
  readonly server: Replica;
}

/** Run one action. Errors of the file system (EACCES, ENOSPC…) become a failure of its path. */
export async function runAction(a: Action, r: Replicas): Promise<Outcome> {
  const target = r[a.side];
  try {
    switch (a.op) {
      case 'put':
        return await target.put(a.path, a.expect, a.entry, r[a.from], a.fromPath);
      case 'mkdir':
        return await target.mkdir(a.path, a.entry);
      case 'setmeta':
        return await target.setmeta(a.path, a.expect, a.entry, a.fields);
      case 'delete':
        return await target.delete(a.path, a.expect);
      case 'rename':
        return await target.rename(a.path, a.to, a.expect, a.entry);
      case 'variant':
        return await target.variant(a.path, a.variantPath, a.entry);
      default:
        return assertNever(a, 'action');
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== 'string' || typeof e.syscall !== 'string') throw err;
    return {
      ok: false,
      reason: `${target.label}: ${a.op} ${display(a.path)} failed: ${e.code} (${e.syscall}); it will be tried again on the next run`,
    };
  }
}

export async function applyActions(
  plan: Plan,
  replicas: Replicas,
  log: PlanLog,
  hooks: ApplyHooks = {},
): Promise<ApplyResult> {
  const total = plan.actions.length;
  const statuses = log.statuses(total);
  const failures: Failure[] = [];
  let applied = 0;
  for (let i = 0; i < total; i++) {
    const a = plan.actions[i]!;
    if (statuses[i] === undefined) {
      await hooks.beforeAction?.(i, a);
      const out = await runAction(a, replicas);
      const st: Status = out.ok ? 'ok' : 'failed';
      statuses[i] = st;
      if (out.ok && !out.already) applied++;
      if (!out.ok) failures.push({ index: i, action: a, reason: out.reason });
      log.mark(i, st);
    } else if (statuses[i] === 'failed') {
      failures.push({ index: i, action: a, reason: 'failed in the interrupted run' });
    }
    hooks.onProgress?.(i + 1, total);
  }
  await log.flush();
  return { statuses: statuses.map((s) => s ?? 'failed'), applied, failures };
}

/** The base updates whose actions all succeeded (MERGE.md's base rule). */
export function committedUpdates(plan: Plan, statuses: readonly Status[]): BaseUpdate[] {
  const okAt = new Map<string, boolean>();
  plan.actions.forEach((a, i) => {
    const ok = statuses[i] === 'ok';
    for (const p of a.op === 'rename' ? [a.path, a.to] : [a.path]) {
      okAt.set(p, (okAt.get(p) ?? true) && ok);
    }
  });
  return plan.baseUpdates.filter((u) =>
    u.after !== undefined ? u.after.every((i) => statuses[i] === 'ok') : (okAt.get(u.path) ?? true),
  );
}

/** The new base tree: the plan's base plus every committed update. */
export function advanceBase(store: TreeStore, plan: Plan, statuses: readonly Status[]): Hash {
  return updateTree(store, plan.from.base, committedUpdates(plan, statuses));
}

// Executing a plan against two replicas (MERGE.md invariants 6, 7, 9). The plan was persisted
// before this runs (plan-log.ts); each action is run unless an earlier, interrupted run
// already marked it, and marked after it. An action whose target is not as the plan saw it
// fails for that path only — never an overwrite — and the base does not advance there.
import type { Action, BaseUpdate, Path, Plan } from '../merge/plan.js';
import { assertNever } from '../errors.js';
import { display, type Entry, type Hash } from '../tree/index.js';
import { updateTree, type TreeStore } from '../merge/base-update.js';
import type { PlanLog, Status } from './plan-log.js';
import type { Outcome, Replica } from '../replica/replica.js';

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

/** An action done another way than planned (a link made as a copy), for the report. */
export interface Note {
  readonly index: number;
  readonly action: Action;
  readonly note: string;
}

export interface ApplyResult {
  readonly statuses: readonly Status[];
  /** Actions that changed something in this run (not ones found already done). */
  readonly applied: number;
  /** Content ids of the files this run copied, by action index. */
  readonly copied: ReadonlyMap<number, Hash>;
  readonly failures: readonly Failure[];
  readonly notes: readonly Note[];
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
        return await target.put(a.path, a.expect, a.entry, r[a.from], a.fromPath, a.link);
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
    // The system said no (an errno-coded error, from Node or a native helper): this action
    // fails and the rest of the plan goes on. Anything else is a bug and stops the run.
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) throw err;
    const how = typeof e.syscall === 'string' ? `${e.code} (${e.syscall})` : e.message;
    return {
      ok: false,
      reason: `${target.label}: ${a.op} ${display(a.path)} failed: ${how}; it will be tried again on the next run`,
    };
  }
}

/** Actions run at once within a wave (their files are written and fsynced in parallel). */
const PARALLEL = 16;

/** Every path an action reads or writes, on either side. */
export function touched(a: Action): Path[] {
  switch (a.op) {
    case 'put': {
      const ps = a.fromPath === a.path ? [a.path] : [a.path, a.fromPath];
      // A link waits for the name it links to (made by an earlier action, or untouched).
      return a.link === undefined ? ps : [...ps, a.link.to];
    }
    case 'rename':
      return [a.path, a.to];
    case 'variant':
      return [a.path, a.variantPath];
    case 'mkdir':
    case 'setmeta':
    case 'delete':
      return [a.path];
    default:
      return assertNever(a, 'action');
  }
}

function prefixes(p: Path): Path[] {
  const out: Path[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

/**
 * Splits the plan, in order, into waves of actions on unrelated paths (no path of one equal to,
 * above or below a path of another): within a wave order does not matter, so a wave runs in
 * parallel; waves run one after another, so the plan's order holds wherever it matters.
 */
export function waves(actions: readonly Action[]): number[][] {
  const out: number[][] = [];
  let wave: number[] = [];
  let paths = new Set<Path>();
  let above = new Set<Path>();
  const clash = (p: Path): boolean =>
    paths.has(p) || above.has(p) || prefixes(p).some((q) => paths.has(q));
  actions.forEach((a, i) => {
    const ps = touched(a);
    if (ps.some(clash)) {
      out.push(wave);
      wave = [];
      paths = new Set();
      above = new Set();
    }
    wave.push(i);
    for (const p of ps) {
      paths.add(p);
      for (const q of prefixes(p)) above.add(q);
    }
  });
  if (wave.length > 0) out.push(wave);
  return out;
}

export async function applyActions(
  plan: Plan,
  replicas: Replicas,
  log: PlanLog,
  hooks: ApplyHooks = {},
  skip: ReadonlySet<number> = new Set(),
): Promise<ApplyResult> {
  const total = plan.actions.length;
  const statuses = log.statuses(total);
  const failures: Failure[] = [];
  const notes: Note[] = [];
  const copied = new Map<number, Hash>();
  let applied = 0;
  let finished = 0;
  // The marks of the wave running, issued together when it ends: one store commit a wave
  // instead of one an action (each commit is a disk flush, beside the files' own). Marks need
  // not be durable one by one (plan-log.ts): a mark lost is an action run again, answered
  // "already done". Marks made after their wave ended (a run cut short) are issued at once.
  let held: [number, Status][] | undefined;
  const mark = (i: number, st: Status): void => {
    if (held === undefined) log.mark(i, st);
    else held.push([i, st]);
  };
  const one = async (i: number): Promise<void> => {
    const a = plan.actions[i]!;
    if (statuses[i] === undefined && skip.has(i)) {
      // On a path that could not be read (reported as a problem, not as a failure here).
      statuses[i] = 'failed';
      mark(i, 'failed');
    } else if (statuses[i] === undefined) {
      await hooks.beforeAction?.(i, a);
      const out = await runAction(a, replicas);
      const st: Status = out.ok ? 'ok' : 'failed';
      statuses[i] = st;
      if (out.ok && !out.already) applied++;
      if (out.ok && out.id !== undefined) copied.set(i, out.id);
      if (out.ok && out.note !== undefined) notes.push({ index: i, action: a, note: out.note });
      if (!out.ok) failures.push({ index: i, action: a, reason: out.reason });
      mark(i, st);
    } else if (statuses[i] === 'failed') {
      failures.push({ index: i, action: a, reason: 'failed in the interrupted run' });
    }
    hooks.onProgress?.(++finished, total);
  };
  for (const wave of waves(plan.actions)) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wave.length) await one(wave[next++]!);
    };
    held = [];
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL, wave.length) }, worker));
    } finally {
      const marks = held;
      held = undefined;
      for (const [i, st] of marks) log.mark(i, st);
    }
  }
  await log.flush();
  failures.sort((x, y) => x.index - y.index);
  notes.sort((x, y) => x.index - y.index);
  return { statuses: statuses.map((s) => s ?? 'failed'), applied, failures, notes, copied };
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

/**
 * The new base tree: the plan's base plus every committed update. A file base knows only by
 * its stamp, copied by this run, takes the content id of what was copied (\`copied\`): both
 * replicas now hold those bytes, and later scans lend the id by stamp instead of reading the
 * file, so the three trees agree there byte for byte.
 */
export function advanceBase(
  store: TreeStore,
  plan: Plan,
  statuses: readonly Status[],
  copied: ReadonlyMap<number, Hash> = new Map(),
): Hash {
  const ids = new Map<Path, { id: Hash; entry: Entry }>();
  for (const [i, id] of copied) {
    const a = plan.actions[i];
    if (a?.op === 'put') ids.set(a.path, { id, entry: a.entry });
  }
  const updates = committedUpdates(plan, statuses).map((u) => {
    const e = u.entry;
    const got = ids.get(u.path);
    if (e?.kind !== 'file' || e.id !== undefined || got === undefined) return u;
    const same = got.entry.size === e.size && got.entry.mtimeNs === e.mtimeNs;
    return same ? { ...u, entry: { ...e, id: got.id } } : u;
  });
  return updateTree(store, plan.from.base, updates);
}

// Scenario runner for the conflict-family tests: build base/local/server from tiny specs,
// merge, apply the plan in the simulator, and check the outcome the way a user sees it — the
// final tree on both sides, the conflict records, the variants kept — plus that merging again
// right away plans nothing (invariant 7).
import type { ExecutionContext } from 'ava';
import { merge, type MergeOptions } from '../../src/merge/merge.js';
import type { Conflict, ConflictKind, Plan } from '../../src/merge/plan.js';
import { display, fromText, type Entry, type Hash } from '../../src/tree/index.js';
import { MemReader, type Spec } from './fixtures.js';
import { applyPlan, differences, rootsOf, worldOf, type World } from './sim.js';

export * from './fixtures.js';

/** The run start every scenario uses (variant names carry it). */
export const NOW = new Date('2026-01-02T03:04:05.678Z');
export const STAMP = '20260102T030405Z';

export interface Scenario {
  readonly reader: MemReader;
  readonly ids: { base: Hash; local: Hash; server: Hash };
  readonly plan: Plan;
  readonly before: World;
  readonly after: World;
  /** Merge the applied result again. */
  again(): Plan;
}

export function scenario(
  base: Spec,
  local: Spec,
  server: Spec,
  opts: Partial<MergeOptions> = {},
): Scenario {
  const reader = new MemReader();
  const ids = {
    base: reader.build(base),
    local: reader.build(local),
    server: reader.build(server),
  };
  const plan = merge(reader, ids.base, ids.local, ids.server, { now: NOW, ...opts });
  const before = worldOf(reader, ids.base, ids.local, ids.server);
  const after = applyPlan(reader, before, plan);
  return {
    reader,
    ids,
    plan,
    before,
    after,
    again() {
      const r = rootsOf(reader, after);
      return merge(reader, r.base, r.local, r.server, { now: NOW, inferServerRenames: false });
    },
  };
}

/** A plan as short readable lines: "put server f", "variant local f -> f.conflict-…". */
export function ops(plan: Plan): string[] {
  return plan.actions.map((a) => {
    const p = display(a.path);
    switch (a.op) {
      case 'rename':
        return `rename ${a.side} ${p} -> ${display(a.to)}`;
      case 'variant':
        return `variant ${a.side} ${p} -> ${display(a.variantPath)}`;
      case 'setmeta':
        return `setmeta ${a.side} ${p} ${a.fields.join(',')}`;
      default:
        return `${a.op} ${a.side} ${p}`;
    }
  });
}

export const conflictsOf = (plan: Plan): string[] =>
  plan.conflicts.map((c) => `${c.kind} ${display(c.path)}${c.informational ? ' (info)' : ''}`);

export interface Outcome {
  /** What both sides hold afterwards. */
  readonly tree: Spec;
  /** "kind path" per record, "(info)" appended for informational ones. */
  readonly conflicts?: readonly string[];
  /** Canonical path → the spec of the local variant kept beside it. */
  readonly variants?: Readonly<Record<string, Spec[string]>>;
  /** Exact plan lines, when the case is about how (renames: no data sent). */
  readonly ops?: readonly string[];
}

function variantEntry(sc: Scenario, c: Conflict): Entry | undefined {
  return c.variantPath === undefined ? undefined : sc.after.variants.get(c.variantPath);
}

/** Check a scenario's outcome, and that merging again plans nothing. */
export function expectOutcome(t: ExecutionContext, sc: Scenario, want: Outcome): void {
  const reader = sc.reader;
  const wantFlat = reader.flatten(reader.build(want.tree));
  t.deepEqual(differences(sc.after.local, wantFlat).map(display), [], 'local tree');
  t.deepEqual(differences(sc.after.server, wantFlat).map(display), [], 'server tree');
  t.deepEqual(conflictsOf(sc.plan), [...(want.conflicts ?? [])], 'conflict records');
  const variants = want.variants ?? {};
  const made = sc.plan.conflicts.filter((c) => c.variantPath !== undefined);
  t.deepEqual(made.map((c) => display(c.path)).sort(), Object.keys(variants).sort(), 'variants');
  for (const c of made) {
    const spec = variants[display(c.path)];
    if (spec === undefined) continue;
    const got = variantEntry(sc, c);
    const exp = reader.entry(got?.name ?? '', spec);
    t.truthy(got, `variant of ${display(c.path)} kept`);
    if (got === undefined) continue;
    t.is(got.kind, exp.kind, 'variant kind');
    t.is(got.id, exp.id, 'variant content');
    t.is(got.target, exp.target, 'variant target');
    t.is(got.mode, exp.mode, 'variant mode');
    t.true(
      display(c.variantPath!).includes(`.conflict-local-${STAMP}-`),
      'variant name carries the run start',
    );
  }
  if (want.ops !== undefined) t.deepEqual(ops(sc.plan), [...want.ops], 'plan');
  const again = sc.again();
  t.deepEqual(ops(again), [], 'merging again plans no action');
  t.deepEqual(conflictsOf(again), [], 'merging again finds no conflict');
  t.deepEqual(again.baseUpdates.length, 0, 'merging again moves no base');
}

/** Swap a scenario's sides (for the mirrored direction of a rule). */
export interface Case {
  readonly name: string;
  readonly base: Spec;
  readonly local: Spec;
  readonly server: Spec;
  readonly want: Outcome;
  readonly opts?: Partial<MergeOptions>;
}

export function runCases(
  testFn: (title: string, fn: (t: ExecutionContext) => void) => void,
  family: string,
  cases: readonly Case[],
): void {
  for (const c of cases) {
    testFn(`${family}: ${c.name}`, (t) => {
      expectOutcome(t, scenario(c.base, c.local, c.server, c.opts ?? {}), c.want);
    });
  }
}

export const kindsOf = (plan: Plan): ConflictKind[] => plan.conflicts.map((c) => c.kind);
export const text = fromText;

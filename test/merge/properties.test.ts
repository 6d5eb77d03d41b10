// fast-check properties of the merge on random trees (fixed seeds): invariants 1–8 and 11 of
// MERGE.md, checked by applying each plan in the in-memory simulator.
import test from 'ava';
import fc from 'fast-check';
import { merge } from '../../src/merge/merge.js';
import type { Action, Conflict, Path, Plan } from '../../src/merge/plan.js';
import { changedFields, display, type Entry, type Hash } from '../../src/tree/index.js';
import { MemReader, type Spec } from './fixtures.js';
import { NOW } from './helpers.js';
import { baseArb, mutate, mutationsArb, touchesArb, type Mutation } from './random.js';
import { applyPlan, differences, rootsOf, worldOf, type World } from './sim.js';

const RUNS = Number(process.env.MERGE_PROPERTY_RUNS ?? 300);
const params = (seed: number): fc.Parameters<unknown> => ({ seed, numRuns: RUNS });

interface Run {
  reader: MemReader;
  ids: { base: Hash; local: Hash; server: Hash };
  plan: Plan;
  before: World;
  after: World;
}

const inputs = fc.record({ base: baseArb, l: mutationsArb, s: mutationsArb });
type Input = { base: Spec; l: Mutation[]; s: Mutation[] };

function setup(input: Input): { reader: MemReader; base: Hash; local: Hash; server: Hash } {
  const reader = new MemReader();
  // A non-empty server root, so the mass-deletion guard stays out of the way.
  const base = reader.build({ ...input.base, keep: 'k' });
  return {
    reader,
    base,
    local: mutate(reader, base, input.l),
    server: mutate(reader, base, input.s),
  };
}

function run(reader: MemReader, base: Hash, local: Hash, server: Hash, infer = true): Run {
  const plan = merge(reader, base, local, server, { now: NOW, inferServerRenames: infer });
  const before = worldOf(reader, base, local, server);
  return {
    reader,
    ids: { base, local, server },
    plan,
    before,
    after: applyPlan(reader, before, plan),
  };
}

function runInput(input: Input, infer = true): Run | undefined {
  const { reader, base, local, server } = setup(input);
  if (reader.readTree(server).length === 0) return undefined;
  return run(reader, base, local, server, infer);
}

/** Where a path went: renames in the plan move it (or an ancestor). */
function movedTo(plan: Plan, p: Path): Path {
  for (const a of plan.actions) {
    if (a.op === 'rename' && (p === a.path || p.startsWith(a.path + '/'))) {
      return a.to + p.slice(a.path.length);
    }
  }
  return p;
}

/** Where base had a path before a rename in the plan moved it to `p`. */
function baseSource(plan: Plan, p: Path): Path {
  for (const a of plan.actions) {
    if (a.op === 'rename' && (p === a.to || p.startsWith(a.to + '/'))) {
      return a.path + p.slice(a.to.length);
    }
  }
  return p;
}

/** The variant that holds `p` (kept with a conflicted ancestor or itself), if any. */
function inVariant(r: Run, p: Path): Entry | undefined {
  for (const c of r.plan.conflicts) {
    if (c.variantPath === undefined) continue;
    if (p === c.path || p.startsWith(c.path + '/')) {
      return r.after.variants.get(c.variantPath + p.slice(c.path.length));
    }
  }
  return undefined;
}

const sameContentOf = (a: Entry | undefined, b: Entry): boolean =>
  a !== undefined &&
  a.kind === b.kind &&
  (a.kind === 'dir' || (a.id === b.id && a.size === b.size && a.target === b.target));

/** Invariant 1: every changed path survives at its path, as a variant, or in a record. */
function lostUpdates(r: Run): string[] {
  const lost: string[] = [];
  for (const side of ['local', 'server'] as const) {
    const m = r.before[side];
    for (const [p, e] of m) {
      const b = r.before.base.get(baseSource(r.plan, p));
      const fields = b === undefined || b.kind !== e.kind ? ['kind'] : changedFields(b, e);
      // A directory's "content" is its children, each checked on its own.
      const meaningful = fields.filter(
        (f) => f !== 'mtime' && !(f === 'content' && e.kind === 'dir'),
      );
      if (meaningful.length === 0) continue;
      const q = movedTo(r.plan, p);
      const now = r.after[side === 'local' ? 'server' : 'local'].get(q) ?? r.after.local.get(q);
      const variant = inVariant(r, p);
      if (variant !== undefined && sameContentOf(variant, e)) continue;
      const record = r.plan.conflicts.find((c: Conflict) => c.path === p || c.path === q);
      const contentChanged = meaningful.includes('kind') || meaningful.includes('content');
      if (contentChanged && !sameContentOf(now, e)) {
        lost.push(`${side} ${display(p)}: content`);
        continue;
      }
      for (const f of meaningful) {
        if (f === 'kind' || f === 'content') continue;
        const kept =
          now !== undefined &&
          (f === 'xattrs'
            ? JSON.stringify(now.xattrs) === JSON.stringify(e.xattrs)
            : now[f as 'mode'] === e[f as 'mode']);
        if (!kept && !(record?.fields.includes(f as never) ?? false))
          lost.push(`${side} ${display(p)}: ${f}`);
      }
    }
  }
  return lost;
}

test('invariants 4 and 6: after apply both sides and base are the same tree', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const r = runInput(input);
      if (r === undefined) return true;
      const d1 = differences(r.after.local, r.after.server);
      const d2 = differences(r.after.base, r.after.local);
      if (d1.length > 0 || d2.length > 0) {
        t.log({ localVsServer: d1.map(display), baseVsLocal: d2.map(display) });
        return false;
      }
      return true;
    }),
    params(1),
  );
  t.pass();
});

test('invariant 7: merging again after apply plans nothing', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const r = runInput(input);
      if (r === undefined) return true;
      const roots = rootsOf(r.reader, r.after);
      const again = merge(r.reader, roots.base, roots.local, roots.server, { now: NOW });
      return (
        again.actions.length === 0 && again.conflicts.length === 0 && again.baseUpdates.length === 0
      );
    }),
    params(2),
  );
  t.pass();
});

test('invariant 1: no lost update', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const r = runInput(input);
      if (r === undefined) return true;
      const lost = lostUpdates(r);
      if (lost.length > 0) t.log(lost);
      return lost.length === 0;
    }),
    params(3),
  );
  t.pass();
});

test('invariant 2: every action copies the other side, moves a variant aside, or deletes what the other side deleted', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const r = runInput(input);
      if (r === undefined) return true;
      // The simulator already refuses a put whose source does not hold that content.
      for (const a of r.plan.actions) {
        if (a.op === 'variant' && a.side !== 'local') return false;
        if (a.op === 'delete') {
          const otherSide = a.side === 'local' ? r.after.server : r.after.local;
          if (otherSide.has(a.path) && !r.after[a.side].has(a.path)) return false;
        }
        if (a.op === 'setmeta' && a.fields.some((f) => f === 'content' || f === 'kind'))
          return false;
      }
      return true;
    }),
    params(4),
  );
  t.pass();
});

test('invariant 3: nothing changes on the server under a conflicted path', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const r = runInput(input);
      if (r === undefined) return true;
      const conflicted = r.plan.conflicts
        .filter((c) => c.variantPath !== undefined)
        .map((c) => c.path);
      const touches = (a: Action): boolean =>
        a.side === 'server' && conflicted.some((p) => a.path === p || a.path.startsWith(p + '/'));
      return !r.plan.actions.some(touches);
    }),
    params(5),
  );
  t.pass();
});

test('invariant 5: the same change on both sides is no conflict and no action', (t) => {
  fc.assert(
    fc.property(baseArb, mutationsArb, (base, muts) => {
      const reader = new MemReader();
      const b = reader.build({ ...base, keep: 'k' });
      const x = mutate(reader, b, muts);
      if (reader.readTree(x).length === 0) return true;
      const plan = merge(reader, b, x, x, { now: NOW });
      return plan.actions.length === 0 && plan.conflicts.length === 0;
    }),
    params(6),
  );
  t.pass();
});

test('invariant 5: a touch never causes a content conflict', (t) => {
  fc.assert(
    fc.property(baseArb, touchesArb, mutationsArb, (base, touches, muts) => {
      const reader = new MemReader();
      const b = reader.build({ ...base, keep: 'k' });
      const server = mutate(
        reader,
        b,
        muts.filter((m) => m.op !== 'delete'),
      );
      const plan = merge(reader, b, mutate(reader, b, touches), server, {
        now: NOW,
      });
      return plan.conflicts.every((c) => !c.fields.includes('content'));
    }),
    params(7),
  );
  t.pass();
});

test('invariant 8: the plan depends only on the trees', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const a = setup(input);
      const b = setup(input);
      if (a.reader.readTree(a.server).length === 0) return true;
      const p1 = merge(a.reader, a.base, a.local, a.server, { now: NOW });
      const p2 = merge(b.reader, b.base, b.local, b.server, { now: new Date(NOW.getTime() + 300) });
      return JSON.stringify(p1, replacer) === JSON.stringify(p2, replacer);
    }),
    params(8),
  );
  t.pass();
});

function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

const mirror: Record<string, string> = {
  'modify/delete': 'delete/modify',
  'delete/modify': 'modify/delete',
};

test('invariant 11: swapping local and server mirrors the result, except the canonical name', (t) => {
  fc.assert(
    fc.property(inputs, (input) => {
      const { reader, base, local, server } = setup(input);
      if (reader.readTree(server).length === 0 || reader.readTree(local).length === 0) return true;
      // Renames are inferred on the server side only: that asymmetry is by design (rule R).
      const r1 = run(reader, base, local, server, false);
      const r2 = run(reader, base, server, local, false);
      const kinds1 = r1.plan.conflicts.map((c) => `${display(c.path)} ${c.kind}`).sort();
      const kinds2 = r2.plan.conflicts
        .map((c) => `${display(c.path)} ${mirror[c.kind] ?? c.kind}`)
        .sort();
      if (JSON.stringify(kinds1) !== JSON.stringify(kinds2)) {
        t.log({ kinds1, kinds2 });
        return false;
      }
      const conflicted = r1.plan.conflicts.filter((c) => !c.informational).map((c) => c.path);
      const differ = differences(r1.after.local, r2.after.local).filter(
        (p) => !conflicted.some((c) => p === c || p.startsWith(c + '/')),
      );
      if (differ.length > 0) t.log(differ.map(display));
      return differ.length === 0;
    }),
    params(11),
  );
  t.pass();
});

test('invariant 7: an apply killed after any action finishes on the next run, with no second variant', (t) => {
  fc.assert(
    fc.property(inputs, fc.nat(), (input, cut) => {
      // Without rename inference: a re-plan may legitimately find a rename the first plan
      // could not use (its target was still taken), and end in another, equally safe state.
      const r = runInput(input, false);
      if (r === undefined) return true;
      const k = r.plan.actions.length === 0 ? 0 : cut % r.plan.actions.length;
      const partial = applyPlan(r.reader, r.before, r.plan, k);
      const roots = rootsOf(r.reader, partial);
      // Halfway through, the server root may be empty for a moment: the guard is for scans.
      const plan2 = merge(r.reader, roots.base, roots.local, roots.server, {
        now: NOW,
        allowEmptyRoot: true,
        inferServerRenames: false,
      });
      const done = applyPlan(r.reader, partial, plan2);
      // Variants kept, counting a directory variant once (its subtree moves with it).
      const made = r.plan.actions.filter((a) => a.op === 'variant').length;
      const keys = [...done.variants.keys()];
      const kept = keys.filter((p) => !keys.some((q) => p.startsWith(q + '/'))).length;
      const diff = differences(done.local, r.after.local);
      const sides = differences(done.server, done.local);
      if (diff.length > 0 || sides.length > 0 || kept !== made) {
        t.log({ k, diff: diff.map(display), sides: sides.map(display), made, kept });
        return false;
      }
      return true;
    }),
    params(12),
  );
  t.pass();
});

test('invariants 1, 4, 6, 7 hold with the rename journals passed in', (t) => {
  fc.assert(
    fc.property(inputs, fc.boolean(), (input, serverJournal) => {
      const reader = new MemReader();
      const base = reader.build({ ...input.base, keep: 'k' });
      const localMoves: { from: string; to: string }[] = [];
      const serverMoves: { from: string; to: string }[] = [];
      const local = mutate(reader, base, input.l, localMoves);
      const server = mutate(reader, base, input.s, serverMoves);
      if (reader.readTree(server).length === 0) return true;
      const plan = merge(reader, base, local, server, {
        now: NOW,
        localRenames: localMoves,
        ...(serverJournal ? { serverRenames: serverMoves } : {}),
      });
      const before = worldOf(reader, base, local, server);
      const r: Run = {
        reader,
        ids: { base, local, server },
        plan,
        before,
        after: applyPlan(reader, before, plan),
      };
      const lost = lostUpdates(r);
      const sides = differences(r.after.local, r.after.server);
      const baseRule = differences(r.after.base, r.after.local);
      const roots = rootsOf(reader, r.after);
      const again = merge(reader, roots.base, roots.local, roots.server, { now: NOW });
      const idle =
        again.actions.length === 0 &&
        again.conflicts.length === 0 &&
        again.baseUpdates.length === 0;
      if (lost.length > 0 || sides.length > 0 || baseRule.length > 0 || !idle) {
        t.log({
          lost,
          sides: sides.map(display),
          baseRule: baseRule.map(display),
          again: again.actions.length,
        });
        return false;
      }
      return true;
    }),
    params(13),
  );
  t.pass();
});

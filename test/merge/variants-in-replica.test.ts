// sync-dirs writes variants as sibling files into the local replica. Passed back as
// `localVariants`, they are never uploaded and never merged; their names stay taken.
import test from 'ava';
import fc from 'fast-check';
import { merge } from '../../src/merge/merge.js';
import { MemReader, NOW, ops, type Spec } from './helpers.js';
import { baseArb, mutate, mutationsArb } from './random.js';
import { applyPlan, differences, rootsOf, variantRoots, worldOf } from './sim.js';

function twoRuns(base: Spec, local: Spec, server: Spec) {
  const r = new MemReader();
  const ids = { b: r.build(base), l: r.build(local), s: r.build(server) };
  const plan = merge(r, ids.b, ids.l, ids.s, { now: NOW });
  const after = applyPlan(r, worldOf(r, ids.b, ids.l, ids.s), plan, undefined, {
    variantsInReplica: true,
  });
  const roots = rootsOf(r, after);
  const later = new Date(NOW.getTime() + 3_600_000);
  return {
    plan,
    after,
    with: merge(r, roots.base, roots.local, roots.server, {
      now: later,
      localVariants: variantRoots(after),
    }),
    without: merge(r, roots.base, roots.local, roots.server, { now: later }),
  };
}

test('variants in the replica: known variants are left alone on the next run', (t) => {
  const run = twoRuns({ f: 'a', d: { x: 'x' } }, { f: 'b', d: 'D' }, { f: 'c', d: { x: 'y' } });
  t.is(run.plan.conflicts.length, 2);
  t.deepEqual(ops(run.with), []);
  t.deepEqual(run.with.conflicts, []);
  t.deepEqual(run.with.baseUpdates, []);
});

test('variants in the replica: without the list they would be uploaded (why it exists)', (t) => {
  const run = twoRuns({ f: 'a' }, { f: 'b' }, { f: 'c' });
  t.deepEqual(
    ops(run.without).map((o) => o.replace(/-[0-9a-f]{8}$/, '')),
    ['put server f.conflict-local-20260102T030405Z'],
  );
});

test('variants in the replica: a directory deleted on the server keeps a variant inside it locally', (t) => {
  const r = new MemReader();
  const base = r.build({ D: { f: 'a' }, k: 'k' });
  const local = r.build({
    D: { f: 'a', 'f.conflict-local-20260101T000000Z-00000000': 'v' },
    k: 'k',
  });
  const server = r.build({ k: 'k' });
  const plan = merge(r, base, local, server, {
    now: NOW,
    localVariants: new Set(['D/f.conflict-local-20260101T000000Z-00000000']),
  });
  t.deepEqual(ops(plan), ['delete local D/f']);
});

test('variants in the replica: property — merging again with them plans nothing', (t) => {
  fc.assert(
    fc.property(baseArb, mutationsArb, mutationsArb, (b, lm, sm) => {
      const r = new MemReader();
      const base = r.build({ ...b, keep: 'k' });
      const local = mutate(r, base, lm);
      const server = mutate(r, base, sm);
      if (r.readTree(server).length === 0) return true;
      const plan = merge(r, base, local, server, { now: NOW });
      const after = applyPlan(r, worldOf(r, base, local, server), plan, undefined, {
        variantsInReplica: true,
      });
      const roots = rootsOf(r, after);
      const again = merge(r, roots.base, roots.local, roots.server, {
        now: NOW,
        localVariants: variantRoots(after),
      });
      const variantsKept = [...variantRoots(after)].every((p) => after.local.has(p));
      const rest = differences(after.local, after.server).filter(
        (p) => ![...after.variants.keys()].includes(p),
      );
      return (
        variantsKept &&
        rest.length === 0 &&
        again.actions.length === 0 &&
        again.conflicts.length === 0 &&
        again.baseUpdates.length === 0
      );
    }),
    { seed: 21, numRuns: Number(process.env.MERGE_PROPERTY_RUNS ?? 300) },
  );
  t.pass();
});

// Special files (rule T): fifos, sockets and devices belong to their host. They are recorded
// in the trees but never created, replaced or deleted on the other side.
import test from 'ava';
import fc from 'fast-check';
import { merge } from '../../src/merge/merge.js';
import { dir, fifo, MemReader, NOW, ops, scenario, type Spec } from './helpers.js';
import { mixedBaseArb, mixedMutationsArb, mutate } from './random.js';
import { applyPlan, rootsOf, worldOf } from './sim.js';

interface SpecialCase {
  name: string;
  base: Spec;
  local: Spec;
  server: Spec;
  ops: string[];
  conflicts?: string[];
}

const k = 'k';
const cases: SpecialCase[] = [
  {
    name: 'a fifo made locally is not created on the server',
    base: { k },
    local: { p: fifo(), k },
    server: { k },
    ops: [],
  },
  {
    name: 'a fifo made on the server is not created locally',
    base: { k },
    local: { k },
    server: { p: fifo(), k },
    ops: [],
  },
  {
    name: 'a fifo deleted locally is not deleted on the server',
    base: { p: fifo(), k },
    local: { k },
    server: { p: fifo(), k },
    ops: [],
  },
  {
    name: 'a fifo deleted on the server is not deleted locally',
    base: { p: fifo(), k },
    local: { p: fifo(), k },
    server: { k },
    ops: [],
  },
  {
    name: 'a directory deleted locally: the server keeps it for its fifo, the rest goes',
    base: { d: { p: fifo(), x: 'x' }, k },
    local: { k },
    server: { d: { p: fifo(), x: 'x' }, k },
    ops: ['delete server d/x'],
  },
  {
    name: 'a file replaced by a fifo on the server is not copied: the record says so',
    base: { f: 'a', k },
    local: { f: 'b', k },
    server: { f: fifo(), k },
    ops: [],
    conflicts: ['type f'],
  },
  {
    name: 'a fifo replaced by a file locally does not replace the server fifo',
    base: { p: fifo(), k },
    local: { p: 'a', k },
    server: { p: fifo(), k },
    ops: [],
  },
  {
    name: 'chmod of a fifo present on both sides is metadata and travels',
    base: { p: fifo(), k },
    local: { p: fifo({ mode: 0o600 }), k },
    server: { p: fifo(), k },
    ops: ['setmeta server p mode'],
  },
  {
    name: 'a fifo in a directory new locally: the directory is created, the fifo is not',
    base: { k },
    local: { d: dir({ p: fifo(), x: 'x' }), k },
    server: { k },
    ops: ['mkdir server d', 'put server d/x'],
  },
];

for (const c of cases) {
  test(`special: ${c.name}`, (t) => {
    const sc = scenario(c.base, c.local, c.server);
    t.deepEqual(ops(sc.plan), c.ops);
    t.deepEqual(
      sc.plan.conflicts.map((x) => `${x.kind} ${x.path}`),
      c.conflicts ?? [],
    );
    for (const a of sc.plan.actions) {
      if (a.op === 'put' || a.op === 'mkdir') t.not(a.entry.kind, 'fifo', 'never creates a fifo');
    }
    const again = sc.again();
    t.deepEqual(ops(again), [], 'stable: merging again plans nothing');
  });
}

test('special: property — fifos are never created or deleted by a plan, and plans settle', (t) => {
  fc.assert(
    fc.property(mixedBaseArb, mixedMutationsArb, mixedMutationsArb, (b, lm, sm) => {
      const r = new MemReader();
      const base = r.build({ ...b, keep: 'k' });
      const local = mutate(r, base, lm);
      const server = mutate(r, base, sm);
      if (r.readTree(server).length === 0) return true;
      const plan = merge(r, base, local, server, { now: NOW });
      for (const a of plan.actions) {
        if ((a.op === 'put' || a.op === 'mkdir') && a.entry.kind === 'fifo') return false;
        if (a.op === 'delete' && a.expect.kind === 'fifo') return false;
      }
      // The plan applies (every action finds what it expects) and a second merge has
      // nothing left to do but what special files keep apart.
      const after = applyPlan(r, worldOf(r, base, local, server), plan);
      const roots = rootsOf(r, after);
      const again = merge(r, roots.base, roots.local, roots.server, {
        now: NOW,
        allowEmptyRoot: true,
      });
      if (again.actions.length > 0) t.log(ops(again));
      return again.actions.length === 0;
    }),
    { seed: 31, numRuns: Number(process.env.MERGE_PROPERTY_RUNS ?? 300) },
  );
  t.pass();
});

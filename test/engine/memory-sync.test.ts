// The sync engine over two in-memory replicas: no file system, the same engine sync-dirs runs.
// A first sync unites the two trees, later changes travel both ways, a conflict keeps both
// versions, non-overlapping text edits merge, and a run cut short is finished by the next.
import test from 'ava';
import { runEngine } from '../../src/sync/engine/engine.js';
import { lastRunStart } from '../../src/sync/engine/settings.js';
import { REF_BASE } from '../../src/store/kv.js';
import { memoryWorld, view } from './sides.js';

const SEC = 1_000_000_000n;
const at = (s: number): { mtimeNs: bigint } => ({ mtimeNs: BigInt(s) * SEC });

test('a first sync unites both trees, and the next has nothing to do', async (t) => {
  const w = memoryWorld();
  w.local.writeFile('docs/a.txt', 'a\n', at(100));
  w.server.writeFile('b.txt', 'b\n', at(200));
  const first = await runEngine(w.engine, { initial: true });
  t.true(first.first);
  t.deepEqual(first.failures, []);
  t.deepEqual(view(w.local), view(w.server));
  t.is(w.local.content('b.txt')?.toString(), 'b\n');
  t.is(w.server.content('docs/a.txt')?.toString(), 'a\n');
  t.not(w.store.getRef(REF_BASE), undefined);
  t.is(lastRunStart(w.store), BigInt(w.clock.ms) * 1_000_000n);

  const second = await runEngine(w.engine);
  t.false(second.first);
  t.is(second.plan.actions.length, 0);
  t.is(second.applied, 0);
});

test('edits, creates and deletes travel both ways', async (t) => {
  const w = memoryWorld();
  for (const r of [w.local, w.server]) {
    r.writeFile('keep.txt', 'keep\n', at(100));
    r.writeFile('edit.txt', 'old\n', at(100));
    r.writeFile('gone.txt', 'bye\n', at(100));
  }
  await runEngine(w.engine);
  w.local.writeFile('edit.txt', 'new\n', at(300));
  w.local.writeFile('made-here.txt', 'fresh\n', at(300));
  w.server.removeAll('gone.txt');
  w.server.writeFile('made-there.txt', 'also fresh\n', at(300));
  const s = await runEngine(w.engine);
  t.deepEqual(s.failures, []);
  t.deepEqual(s.conflicts, []);
  t.deepEqual(view(w.local), view(w.server));
  t.deepEqual(Object.keys(view(w.local)), [
    'edit.txt',
    'keep.txt',
    'made-here.txt',
    'made-there.txt',
  ]);
  t.is(w.server.content('edit.txt')?.toString(), 'new\n');
});

test('an edit on both sides that does not merge keeps both versions and is recorded', async (t) => {
  const w = memoryWorld();
  for (const r of [w.local, w.server]) r.writeFile('f.txt', 'base\n', at(100));
  await runEngine(w.engine);
  w.local.writeFile('f.txt', 'mine\n', at(200));
  w.server.writeFile('f.txt', 'theirs\n', at(300));
  const s = await runEngine(w.engine);
  t.is(s.conflicts.length, 1);
  t.is(s.open, 1);
  const variant = s.conflicts[0]!.variantPath!;
  t.is(w.local.content('f.txt')?.toString(), 'theirs\n');
  t.is(w.local.content(variant)?.toString(), 'mine\n');
  t.is(w.server.content(variant), undefined, 'the variant stays local');
  const again = await runEngine(w.engine);
  t.is(again.plan.actions.length, 0, 'the recorded variant is not uploaded');
});

test('text edits in different regions merge on both sides', async (t) => {
  const w = memoryWorld();
  const base = 'one\ntwo\nthree\nfour\nfive\n';
  for (const r of [w.local, w.server]) r.writeFile('t.txt', base, at(100));
  await runEngine(w.engine);
  w.local.writeFile('t.txt', 'ONE\ntwo\nthree\nfour\nfive\n', at(200));
  w.server.writeFile('t.txt', 'one\ntwo\nthree\nfour\nFIVE\n', at(300));
  const s = await runEngine(w.engine);
  t.deepEqual(s.autoMerged, ['t.txt']);
  t.deepEqual(s.conflicts, []);
  const merged = 'ONE\ntwo\nthree\nfour\nFIVE\n';
  t.is(w.local.content('t.txt')?.toString(), merged);
  t.is(w.server.content('t.txt')?.toString(), merged);
  t.is((await runEngine(w.engine)).plan.actions.length, 0);
});

test('a run cut short is finished by the next one before it scans', async (t) => {
  const w = memoryWorld();
  for (let i = 0; i < 4; i++) w.local.writeFile(`f${i}.txt`, `${i}\n`, at(100));
  let calls = 0;
  const cut = new Error('cut short');
  await t.throwsAsync(
    runEngine(w.engine, {
      initial: true,
      hooks: {
        beforeAction: () => {
          if (++calls === 3) throw cut;
        },
      },
    }),
    { is: cut },
  );
  t.is(w.store.getRef(REF_BASE), undefined, 'base did not move');
  const s = await runEngine(w.engine, { initial: true });
  t.true(s.resumed);
  t.deepEqual(s.failures, []);
  t.deepEqual(view(w.local), view(w.server));
  t.is(Object.keys(view(w.server)).length, 4);
});

test('a change on the target between scan and apply is never overwritten', async (t) => {
  const w = memoryWorld();
  for (const r of [w.local, w.server]) r.writeFile('f.txt', 'base\n', at(100));
  await runEngine(w.engine);
  w.local.writeFile('f.txt', 'local edit\n', at(200));
  const s = await runEngine(w.engine, {
    hooks: {
      beforeAction: () => {
        w.server.writeFile('f.txt', 'written meanwhile\n', at(250));
      },
    },
  });
  t.is(s.failures.length, 1);
  t.is(w.server.content('f.txt')?.toString(), 'written meanwhile\n');
  const next = await runEngine(w.engine);
  t.is(next.conflicts.length, 1, 'the next run sees both edits');
});

// The changed-path list (src/volume/changed-paths.ts) on an in-memory database: trusted only
// after a clean stop, notes kept over a pass that started before them, directories forgotten
// with everything below them.
import test from 'ava';
import { ChangedPaths } from '../../src/volume/changed-paths.js';
import { MemoryKvDb } from '../../src/store/memory.js';

test('a list is trusted after a clean stop only, and survives it', async (t) => {
  const db = new MemoryKvDb();
  const first = await ChangedPaths.open(db);
  t.false(first.complete, 'no clean mark yet: a scan must find the paths');
  first.replace(['a', 'b/c'], first.now);
  first.note('d');
  await first.markClean();

  const second = await ChangedPaths.open(db);
  t.true(second.complete);
  t.deepEqual(second.list().sort(), ['a', 'b/c', 'd']);
  second.note('e');
  await second.settled();
  // Killed now: the mark was taken away when the daemon started.
  const third = await ChangedPaths.open(db);
  t.false(third.complete, 'a daemon that did not stop cleanly leaves no trusted list');
});

test('forget keeps a path noted after the pass began; a directory takes its children', async (t) => {
  const c = await ChangedPaths.open(new MemoryKvDb());
  c.replace([], c.now);
  c.note('x');
  c.note('d');
  c.note('d/f');
  c.note('dx');
  const since = c.now;
  c.note('x'); // written again while the pass ran
  c.forget('x', since, false);
  t.true(c.list().includes('x'));
  c.forget('d', since, true);
  t.deepEqual(c.list().sort(), ['dx', 'x']);
  c.note('');
  t.false(c.list().includes(''), "the root's own metadata is no part of a tree");
});

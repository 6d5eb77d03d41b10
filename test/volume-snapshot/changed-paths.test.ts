// The changed-path list (src/volume/changed-paths.ts) on an in-memory database: trusted only
// after a clean stop, notes kept over a pass that started before them, directories forgotten
// with everything below them; the stat cache's racy-clean guard.
import test from 'ava';
import { lstatSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RACY_NS } from '../../src/scan/stamp.js';
import { ChangedPaths } from '../../src/volume/changed-paths.js';
import { MemoryKvDb } from '../../src/store/memory.js';
import { hashBytes } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

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

test('a stat vouches for the id read only where the file changed well before the read', async (t) => {
  const tmp = tempDir('changed-paths-');
  t.teardown(tmp.cleanup);
  const f = join(tmp.dir, 'f');
  const c = await ChangedPaths.open(new MemoryKvDb());
  const id = hashBytes(Buffer.from('one\n'));
  writeFileSync(f, 'one\n');
  utimesSync(f, 1_700_000_000, 1_700_000_000);
  const st = lstatSync(f, { bigint: true });
  // Read as it was written (a background compose may be that quick): the next look reads again.
  c.remember('f', st, id, st.ctimeNs);
  t.is(c.idAt('f', st), undefined, 'a write in the same clock tick could hide behind this stat');
  // Read well after its last change: the same stat vouches for the id.
  c.remember('f', st, id, st.ctimeNs + RACY_NS + 1n);
  t.is(c.idAt('f', st), id);
  // Rewritten since, same size and mtime: its ctime tells.
  await sleep(20);
  writeFileSync(f, 'two\n');
  utimesSync(f, 1_700_000_000, 1_700_000_000);
  t.is(c.idAt('f', lstatSync(f, { bigint: true })), undefined);
});

// A tampered store cannot make sync-dirs reach outside its replicas: a pending plan whose
// paths climb out (`../escape-put.txt`, `sub/../../escape-nested.txt`, a rename to
// `../escape-renamed.txt`, a delete of `../victim.txt`) is refused whole with a clear message,
// nothing changes, fsck names it, and fsck --repair sets it aside so syncing can go on.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../src/merge/plan.js';
import { Store } from '../../src/store/store.js';
import { encodePlan } from '../../src/sync/plan-log.js';
import { DirReplica } from '../../src/replica/dir.js';
import { EMPTY_TREE_ID } from '../../src/tree/index.js';
import { tempDir, tether } from '../cli/run.js';

test('a pending plan with paths that climb out of the replica is refused, and fsck --repair sets it aside', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  const dir = join(tmp.dir, 'store');
  mkdirSync(join(a, 'sub'), { recursive: true });
  writeFileSync(join(a, 'f.txt'), 'f\n');
  execFileSync('cp', ['-a', a, b]);
  writeFileSync(join(tmp.dir, 'victim.txt'), 'keep me\n');
  t.is(tether(['sync-dirs', a, b, '--store', dir]).status, 0);

  const f = (await new DirReplica(a, 'local').entry('f.txt'))!;
  const victim = (await new DirReplica(tmp.dir, 'outside').entry('victim.txt'))!;
  const plan: Plan = {
    clean: true,
    actions: [
      {
        op: 'put',
        side: 'local',
        path: '../escape-put.txt',
        expect: null,
        entry: f,
        from: 'server',
        fromPath: 'f.txt',
      },
      {
        op: 'put',
        side: 'local',
        path: 'sub/../../escape-nested.txt',
        expect: null,
        entry: f,
        from: 'server',
        fromPath: 'f.txt',
      },
      {
        op: 'rename',
        side: 'local',
        path: 'f.txt',
        to: '../escape-renamed.txt',
        expect: f,
        entry: f,
      },
      { op: 'delete', side: 'local', path: '../victim.txt', expect: victim },
    ],
    conflicts: [],
    baseUpdates: [],
    from: { base: EMPTY_TREE_ID, local: EMPTY_TREE_ID, server: EMPTY_TREE_ID },
  };
  const store = await Store.open(dir);
  try {
    await store.db('plans').put(Buffer.from('plan'), encodePlan(plan, new Date()));
  } finally {
    await store.close();
  }
  const before = readdirSync(tmp.dir).sort();

  const r = tether(['sync-dirs', a, b, '--store', dir]);
  t.is(r.status, 1, r.stdout + r.stderr);
  t.regex(
    r.stderr,
    /interrupted sync plan in the store is damaged \(the path \.\.\/escape-put\.txt is unsafe/,
  );
  t.regex(r.stderr, /nothing was applied.*fsck --repair/);
  t.deepEqual(readdirSync(tmp.dir).sort(), before, 'nothing created or deleted above A');
  t.is(readFileSync(join(tmp.dir, 'victim.txt'), 'utf8'), 'keep me\n');
  t.is(readFileSync(join(a, 'f.txt'), 'utf8'), 'f\n', 'f.txt was not renamed away');

  const check = tether(['fsck', '--store', dir]);
  t.is(check.status, 1, check.stdout);
  t.regex(check.stdout, /damaged: record plans\/plan: .*unsafe/);
  const repair = tether(['fsck', '--repair', '--store', dir]);
  t.is(repair.status, 1, repair.stdout);
  t.regex(repair.stdout, /moved to .*quarantine/);
  t.is(tether(['fsck', '--store', dir]).status, 0, 'sound after the repair');
  const again = tether(['sync-dirs', a, b, '--store', dir]);
  t.is(again.status, 0, again.stdout + again.stderr);
  t.deepEqual(readdirSync(tmp.dir).sort(), before);
});

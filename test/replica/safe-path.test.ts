// No replica call follows a symlink in a parent of its target. The case that escaped: a run
// stopped at the start of its apply, a directory of the replica swapped for a symlink to a
// directory outside it, the plan resumed — every file of that directory went outside.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { DirReplica } from '../../src/replica/dir.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import type { Entry } from '../../src/tree/index.js';
import { tempDir, tether } from '../cli/run.js';

/** A run that dies as its apply starts: the plan is persisted, no action has run. */
class Killed extends Error {}

for (const side of ['A', 'B'] as const) {
  test(`a resumed plan writes nothing through ${side}/dd swapped for a symlink to outside`, async (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    const outside = join(tmp.dir, 'outside');
    mkdirSync(join(a, 'dd', 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(a, 'dd', 'kept.txt'), 'base\n');
    execFileSync('cp', ['-a', a, b]);
    const store = await Store.create(join(tmp.dir, 'store'));
    try {
      await runSyncDirs(store, a, b);
      // New files on the other side: the plan puts them into <side>/dd and <side>/dd/sub.
      const other = side === 'A' ? b : a;
      for (let i = 0; i < 20; i++) {
        writeFileSync(join(other, 'dd', `new-${i}.txt`), `new ${i}\n`);
        writeFileSync(join(other, 'dd', 'sub', `deep-${i}.txt`), `deep ${i}\n`);
      }
      await t.throwsAsync(
        runSyncDirs(store, a, b, {
          hooks: {
            beforeAction: () => {
              throw new Killed('killed at the start of apply');
            },
          },
        }),
        { instanceOf: Killed },
      );
    } finally {
      await store.close();
    }
    const target = side === 'A' ? a : b;
    renameSync(join(target, 'dd'), join(tmp.dir, 'dd-moved-away'));
    mkdirSync(join(outside, 'sub'));
    symlinkSync(outside, join(target, 'dd'));

    const r = tether(['sync-dirs', a, b, '--store', join(tmp.dir, 'store')]);
    t.deepEqual(readdirSync(outside), ['sub'], 'nothing written outside the replica');
    t.deepEqual(readdirSync(join(outside, 'sub')), [], 'nothing written below it either');
    t.not(r.status, 0, 'the skipped actions are reported');
    t.regex(r.stdout + r.stderr, /dd is now a symlink/);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('replica calls refuse a symlinked parent and unsafe names, and still see a missing one', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const root = join(tmp.dir, 'R');
  const outside = join(tmp.dir, 'outside');
  mkdirSync(join(root, 'real'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim.txt'), 'keep me\n');
  writeFileSync(join(root, 'file'), 'x');
  symlinkSync(outside, join(root, 'link'));
  const r = new DirReplica(root, 'local');
  const victim = (await new DirReplica(outside, 'outside').entry('victim.txt'))!;
  await t.throwsAsync(r.entry('link/victim.txt'), { message: /link is now a symlink/ });
  await t.throwsAsync(r.delete('link/victim.txt', victim), { message: /symlink/ });
  await t.throwsAsync(r.entry('real/../link/victim.txt'), { message: /unsafe/ });
  t.is(readFileSync(join(outside, 'victim.txt'), 'utf8'), 'keep me\n');
  t.is(await r.entry('missing/x'), undefined, 'a missing parent: nothing there');
  t.is(await r.entry('file/x'), undefined, 'a file as parent: nothing can be inside');
  const dir: Entry = { ...(await r.entry('real'))!, name: 'made' };
  t.true((await r.mkdir('real/made', dir)).ok, 'a real parent works');
  t.true((await r.rename('real', 'moved', (await r.entry('real'))!, dir)).ok);
  // The replica's own rename must not leave a stale handle: 'real' is made anew.
  t.true((await r.mkdir('real', dir)).ok);
  t.true((await r.mkdir('real/again', dir)).ok);
  t.deepEqual(readdirSync(join(root, 'real')), ['again']);
  t.deepEqual(readdirSync(join(root, 'moved')), ['made']);
});

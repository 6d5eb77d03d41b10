// Volume states compared (`tether diff` with @base, @local, @server, snapshots, the mount and a
// plain directory; exit 0 equal, 1 different, 2 trouble), one path's versions (`log`, `show
// --snapshot`), snapshots listed and removed with --of, and `snapshot restore`: a round trip
// that `tether diff` finds equal, and its refusals (a non-empty directory, content never
// fetched, a name that exists), each leaving everything as it was.
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, mounted, sh, tetherRun } from '../mount/harness.js';
import { fillRemote, take } from './helpers.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const QUIET = { TETHER_PULL_MS: '600000' };
const fetchAll = (mnt: string): ReturnType<typeof sh> =>
  sh(`cd ${mnt} && cat */*.txt b/c/*.txt *.txt > /dev/null`);

serial(`diff of volume states: exit codes and paths${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  t.is((await fetchAll(v.mnt)).status, 0);
  const clean = await tetherRun(['diff', '@base', '@local', v.mnt]);
  t.is(clean.status, 0, `nothing changed: ${clean.stdout}${clean.stderr}`);
  await take(t, 'v1', v.mnt);
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  t.is((await sh(`cd ${v.mnt} && echo edit >> a/f1.txt && rm b/f2.txt && echo n > new`)).status, 0);

  const d = await tetherRun(['diff', '@base', '@local', v.mnt]);
  t.is(d.status, 1, d.stderr);
  t.is(d.stdout, 'M\ta/f1.txt\nD\tb/f2.txt\nA\tnew\n');
  const server = await tetherRun(['diff', '@local', '@server', v.mnt]);
  t.is(server.status, 1, server.stderr);
  t.is(server.stdout, 'M\ta/f1.txt\nA\tb/f2.txt\nD\tnew\n');
  const inA = await tetherRun(['diff', '@base', '@local', join(v.mnt, 'a')]);
  t.is(inA.stdout, 'M\ta/f1.txt\n', 'a third argument restricts to its path');
  const vsMount = await tetherRun(['diff', 'v1', v.mnt]);
  t.is(vsMount.status, 1);
  t.is(vsMount.stdout, d.stdout, 'the mount stands for @local');
  await take(t, 'v2', v.mnt);
  t.is((await tetherRun(['diff', 'v2', v.mnt])).status, 0);
  const stat = await tetherRun(['diff', 'v1', 'v2', v.mnt, '--stat']);
  t.regex(stat.stdout, /3 changes: 1 added, 1 deleted, 1 modified/);
  // A plain directory against the volume's snapshot (scanned by the daemon).
  const { dir, cleanup } = tempDir('snap-plain-');
  t.teardown(cleanup);
  mkdirSync(join(dir, 'x'));
  writeFileSync(join(dir, 'x', 'f1.txt'), 'other\n');
  const plain = await tetherRun(['diff', 'v2', join(dir, 'x'), join(v.mnt, 'a')]);
  t.is(plain.status, 1, plain.stderr);
  t.regex(plain.stdout, /^M\tf1\.txt\n(D\tf\d+\.txt\n)+$/);

  const missing = await tetherRun(['diff', 'nosuch', v.mnt]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /no snapshot named "nosuch"/);
  const notMount = await tetherRun(['diff', '@base', '@local', dir]);
  t.is(notMount.status, 2);
  t.regex(notMount.stderr, /not in a tether mount/);
});

serial(`log and show: a path's versions across snapshots${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  t.is((await sh(`echo one > ${v.mnt}/a/f1.txt`)).status, 0);
  await take(t, 'one', v.mnt);
  await take(t, 'same', v.mnt);
  t.is((await sh(`echo two > ${v.mnt}/a/f1.txt`)).status, 0);
  await take(t, 'two', v.mnt);
  const log = await tetherRun(['log', join(v.mnt, 'a/f1.txt'), '--json']);
  t.is(log.status, 0, log.stderr);
  const rows = JSON.parse(log.stdout) as { snapshot: string; id: string; size: number }[];
  t.deepEqual(
    rows.map((r) => [r.snapshot, r.size]),
    [
      ['one', 4],
      ['same', 4],
      ['two', 4],
    ],
  );
  t.is(rows[0]?.id, rows[1]?.id);
  t.not(rows[1]?.id, rows[2]?.id);
  const text = await tetherRun(['log', join(v.mnt, 'a/f1.txt')]);
  t.is(text.stdout.split('\n').filter((l) => l.startsWith('*')).length, 2, text.stdout);
  t.is((await tetherRun(['show', join(v.mnt, 'a/f1.txt'), '--snapshot', 'one'])).stdout, 'one\n');
  t.is((await tetherRun(['show', join(v.mnt, 'a/f1.txt'), '--snapshot', 'two'])).stdout, 'two\n');
  const never = await tetherRun(['log', join(v.mnt, 'nothing-here')]);
  t.is(never.status, 1);
  const gone = await tetherRun(['show', join(v.mnt, 'nothing-here'), '--snapshot', 'one']);
  t.not(gone.status, 0);
  t.regex(gone.stderr, /has no nothing-here/);
  const both = await tetherRun(['show', join(v.mnt, 'a/f1.txt')]);
  t.is(both.status, 2);

  const list = await tetherRun(['snapshot', 'list', '--of', v.mnt, '--json']);
  t.deepEqual(
    (JSON.parse(list.stdout) as { name: string }[]).map((s) => s.name),
    ['one', 'same', 'two'],
  );
  const shown = await tetherRun(['snapshot', 'show', 'two', '--of', v.mnt]);
  t.regex(shown.stdout, / a\/f1\.txt\n/);
  const rm = await tetherRun(['snapshot', 'rm', 'same', '--of', v.mnt]);
  t.is(rm.status, 0, rm.stderr);
  t.regex(rm.stdout, /removed snapshot same; "tether gc" would now free \d+ objects/);
  const exists = await tetherRun(['snapshot', 'take', 'one', v.mnt]);
  t.is(exists.status, 2);
  t.regex(exists.stderr, /exists already/);
  t.is((await tetherRun(['snapshot', 'take', 'one', v.mnt, '--force'])).status, 0);
});

serial(`restore: a round trip diff finds equal, and its refusals${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  const { dir, cleanup } = tempDir('snap-restore-');
  t.teardown(cleanup);
  // Files never fetched are in the snapshot by their content id only.
  await take(t, 'cold', v.mnt);
  const cold = await tetherRun(['snapshot', 'restore', 'cold', join(dir, 'cold'), '--of', v.mnt]);
  t.is(cold.status, 1);
  t.regex(cold.stderr, /have no content in the store .*nothing was written/);
  t.false(existsSync(join(dir, 'cold')), 'nothing was made');

  t.is((await fetchAll(v.mnt)).status, 0);
  t.is((await sh(`cd ${v.mnt} && ln -s b/f2.txt link && chmod 751 b && echo x > a/new`)).status, 0);
  await take(t, 'warm', v.mnt);
  const out = join(dir, 'warm');
  const r = await tetherRun(['snapshot', 'restore', 'warm', out, '--of', v.mnt]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /restored warm to .*: 31 files/);
  const round = await tetherRun(['diff', 'warm', out, v.mnt]);
  t.is(round.status, 0, `restored = snapshot: ${round.stdout}${round.stderr}`);

  const full = join(dir, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'keep'), 'mine');
  const refused = await tetherRun(['snapshot', 'restore', 'warm', full, '--of', v.mnt]);
  t.is(refused.status, 2);
  t.regex(refused.stderr, /is not empty/);
  t.deepEqual(readdirSync(full), ['keep']);
  const noName = await tetherRun(['snapshot', 'restore', 'nosuch', join(dir, 'n'), '--of', v.mnt]);
  t.not(noName.status, 0);
  t.regex(noName.stderr, /no snapshot named "nosuch"/);
});

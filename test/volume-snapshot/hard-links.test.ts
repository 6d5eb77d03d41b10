// Hard links made in a mounted volume, in its snapshots: online (the link reaches the server,
// and base, which records no links, catches up) and offline (the link only in the local view),
// a snapshot records the group, restore makes one file of it again, and the round trip diffs
// equal against the snapshot.
import test from 'ava';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, mounted, sh, tetherRun } from '../mount/harness.js';
import { fillRemote, take } from './helpers.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const QUIET = { TETHER_PULL_MS: '600000' };

serial(`a volume snapshot records hard links, and restore makes them${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  const { dir, cleanup } = tempDir('snap-links-');
  t.teardown(cleanup);
  t.is((await sh(`cd ${v.mnt} && cat */*.txt b/c/*.txt *.txt > /dev/null`)).status, 0);
  // Online: across directories and within one.
  t.is((await sh(`cd ${v.mnt} && ln a/f1.txt b/one && ln a/f1.txt a/two`)).status, 0);
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  // Offline: a second group, only in the local view.
  t.is((await sh(`cd ${v.mnt} && ln b/f2.txt b/c/three`)).status, 0);
  const first = await take(t, 'linked', v.mnt);
  // Again, nothing changed: the names remembered account for every link, nothing is listed.
  const again = (await take(t, 'again', v.mnt)) as typeof first & { linksWalked: boolean };
  const d = await tetherRun(['diff', 'linked', 'again', v.mnt]);
  t.is(d.status, 0, d.stdout + d.stderr);
  t.truthy(first.id);
  t.false(again.linksWalked, 'the view was not listed again');
  const shown = await tetherRun(['snapshot', 'show', 'linked', '--of', v.mnt, '--json']);
  t.is(shown.status, 0, shown.stderr);

  const out = join(dir, 'out');
  const r = await tetherRun(['snapshot', 'restore', 'linked', out, '--of', v.mnt]);
  t.is(r.status, 0, r.stderr);
  const ino = (p: string): number => statSync(join(out, p)).ino;
  t.is(ino('b/one'), ino('a/f1.txt'), 'b/one is a/f1.txt');
  t.is(ino('a/two'), ino('a/f1.txt'), 'a/two is a/f1.txt');
  t.is(ino('b/c/three'), ino('b/f2.txt'), 'b/c/three is b/f2.txt');
  t.not(ino('b/f2.txt'), ino('a/f1.txt'));
  t.is(statSync(join(out, 'a/f5.txt')).nlink, 1, 'a file of its own stays one');
  const round = await tetherRun(['diff', 'linked', out, v.mnt]);
  t.is(round.status, 0, `restored = snapshot: ${round.stdout}${round.stderr}`);
  const vsMount = await tetherRun(['diff', 'linked', v.mnt]);
  t.is(vsMount.status, 0, `the mount = its snapshot: ${vsMount.stdout}${vsMount.stderr}`);
  // Unlinking one name changes the linking of the one left in its group.
  t.is((await sh(`rm ${v.mnt}/b/c/three`)).status, 0);
  const after = await tetherRun(['diff', 'linked', v.mnt]);
  t.is(after.status, 1, after.stderr);
  t.is(after.stdout, 'D\tb/c/three\nM\tb/f2.txt\t(hard links with b/c/three -> none)\n');
});

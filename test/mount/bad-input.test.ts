// Bad input to the volume commands: each is refused with a message that says what, where and
// what to do, and changes nothing.
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, eventually, mounted, sh, tetherRun } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

const inMountinfo = (dir: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `);

serial(`mount refuses a bad remote or mount point, and makes nothing${skipped}`, async (t) => {
  const { dir, cleanup } = tempDir('tether-bad-');
  t.teardown(cleanup);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const store = join(dir, 'store');

  let r = await tetherRun(['mount', join(dir, 'nope'), mnt, '--store', store]);
  t.is(r.status, 2);
  t.regex(r.stderr, /the remote .*nope does not exist: give the directory on the server/);

  writeFileSync(join(dir, 'file'), 'x');
  r = await tetherRun(['mount', join(dir, 'file'), mnt, '--store', store]);
  t.is(r.status, 2);
  t.regex(r.stderr, /is not a directory/);

  mkdirSync(join(dir, 'remote'));
  writeFileSync(join(dir, 'remote', 'a'), 'a');
  writeFileSync(join(mnt, 'busy'), 'x');
  r = await tetherRun(['mount', join(dir, 'remote'), mnt, '--store', store]);
  t.is(r.status, 2);
  t.regex(r.stderr, /mount point .*mnt is not empty: mount on an empty directory/);

  r = await tetherRun(['mount', join(dir, 'remote'), join(dir, 'none'), '--store', store]);
  t.is(r.status, 2);
  t.regex(r.stderr, /does not exist: create an empty directory there/);

  // One FUSE binding: asking for the one that was removed says so.
  r = await tetherRun([
    'mount',
    join(dir, 'remote'),
    mnt,
    '--store',
    store,
    '--binding',
    'fuse-native',
  ]);
  t.is(r.status, 2);
  t.regex(r.stderr, /--binding is gone: .*drop --binding fuse-native/);
  t.false(existsSync(store), 'no store was made');
  t.false(inMountinfo(mnt));

  r = await tetherRun(['status', dir]);
  t.is(r.status, 2);
  t.regex(r.stderr, /is not in a tether mount/);
});

serial(
  `mount refuses a mounted mount point, another remote, a second daemon${skipped}`,
  async (t) => {
    const v = await mounted(t, (r) => {
      writeFileSync(join(r, 'a.txt'), 'a\n');
    });
    const other = join(v.dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'b.txt'), 'b\n');
    const mnt2 = join(v.dir, 'mnt2');
    mkdirSync(mnt2);

    let r = await tetherRun(['mount', other, v.mnt, '--store', join(v.dir, 'store2')]);
    t.is(r.status, 2);
    t.regex(r.stderr, /is already a mount point/);

    r = await tetherRun(['mount', v.remote, mnt2, '--store', v.store]);
    t.not(r.status, 0);
    t.regex(r.stderr, /already mounted by a running daemon: unmount that volume first/);
    t.false(inMountinfo(mnt2));

    await v.unmount();
    r = await tetherRun(['mount', other, mnt2, '--store', v.store]);
    t.is(r.status, 2, r.stderr);
    t.regex(
      r.stderr,
      /belongs to the remote .*remote, not .*other: mount .* with it, or give another --store/,
    );
    t.false(inMountinfo(mnt2));
    t.deepEqual(readdirSync(other), ['b.txt']);
  },
);

serial(`a daemon that does not answer, and one that died${skipped}`, async (t) => {
  const v = await mounted(t, (r) => {
    writeFileSync(join(r, 'a.txt'), 'a\n');
  });
  const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
  process.kill(pid, 'SIGSTOP');
  let r: Awaited<ReturnType<typeof tetherRun>>;
  try {
    r = await tetherRun(['status', v.mnt]);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  t.is(r.status, 1);
  t.regex(r.stderr, /does not answer .*"tether unmount .*" stops it/);

  process.kill(pid, 'SIGKILL');
  t.true(await eventually(() => !existsSync(`/proc/${pid}`)));
  r = await tetherRun(['status', v.mnt]);
  t.is(r.status, 1);
  t.regex(r.stderr, /no daemon serves .*: run "tether unmount/);
  const ls = await sh(`ls ${v.mnt}`);
  t.regex(ls.stderr, /Transport endpoint is not connected/);
  r = await tetherRun(['unmount', v.mnt]);
  t.is(r.status, 0, r.stderr);
  t.false(inMountinfo(v.mnt));
});

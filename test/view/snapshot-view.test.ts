// A snapshot mounted read-only through the kernel: the same bytes, modes, times and links
// (symbolic, and hard links as one inode) as the tree it was taken of; EROFS on every write; ENODATA (and `tether why`) for content the
// store does not have; unmount leaves no mount and no daemon.
import test from 'ava';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, sh, tetherRun } from '../mount/harness.js';
import { mountView, viewPid } from './harness.js';
import { processAlive } from '../../src/store/store.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

/** A small tree of every kind a snapshot records, and a store with it as snapshot "s1". */
async function snapshotOf(t: { teardown(fn: () => void): void }) {
  const { dir, cleanup } = tempDir('views-test-');
  t.teardown(cleanup);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'hello\n');
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'big.bin'), Buffer.alloc(1 << 20, 7));
  writeFileSync(join(src, 'sub', 'deeper', 'x.sh'), '#!/bin/sh\necho x\n');
  chmodSync(join(src, 'sub', 'deeper', 'x.sh'), 0o750);
  chmodSync(join(src, 'a.txt'), 0o600);
  symlinkSync('../a.txt', join(src, 'sub', 'link'));
  linkSync(join(src, 'sub', 'deeper', 'x.sh'), join(src, 'hard.sh'));
  const store = join(dir, 'store');
  const take = await tetherRun(['snapshot', 'take', 's1', '--of', src, '--store', store]);
  if (take.status !== 0) throw new Error(take.stderr);
  return { dir, src, store, mnt: join(dir, 'mnt') };
}

/** Every path with its type, mode, size, mtime and link target, as find prints them. */
const listing = (root: string) =>
  sh(
    `cd ${root} && find . \\( -type d -printf '%p %y %m %T@\\n' \\) -o -printf '%p %y %m %s %T@ %l\\n' | sort`,
  );

serial(
  `a snapshot view shows the snapshot exactly, refuses writes, and unmounts clean${skipped}`,
  async (t) => {
    const s = await snapshotOf(t);
    const v = await mountView(t, s.mnt, ['--snapshot', 's1', '--store', s.store]);
    t.is(v.mounted.status, 0, v.mounted.stderr);
    const pid = viewPid(s.mnt);
    t.true(pid !== undefined && pid > 0);

    const diff = await sh(`diff -r --no-dereference ${s.src} ${s.mnt}`);
    t.is(diff.status, 0, diff.stdout + diff.stderr);
    const [want, got] = [await listing(s.src), await listing(s.mnt)];
    // The root directory is the view's own (its mode and time are not the source's).
    const body = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => !l.startsWith('. '));
    t.deepEqual(body(got), body(want));
    t.is((await sh(`cat ${s.mnt}/sub/link`)).stdout, 'hello\n');
    // The tree records the hard link: both names show one inode, with two links.
    const linked = await sh(`stat -c '%i %h' ${s.mnt}/hard.sh ${s.mnt}/sub/deeper/x.sh`);
    const [one, two] = linked.stdout.trim().split('\n');
    t.is(one, two, linked.stdout + linked.stderr);
    t.regex(one ?? '', / 2$/);
    t.not(
      (await sh(`stat -c %i ${s.mnt}/a.txt`)).stdout,
      (await sh(`stat -c %i ${s.mnt}/hard.sh`)).stdout,
    );

    for (const cmd of [
      `echo x > ${s.mnt}/a.txt`,
      `echo x >> ${s.mnt}/sub/deeper/x.sh`,
      `touch ${s.mnt}/new`,
      `mkdir ${s.mnt}/d`,
      `rm ${s.mnt}/a.txt`,
      `mv ${s.mnt}/a.txt ${s.mnt}/b.txt`,
      `chmod 777 ${s.mnt}/a.txt`,
      `ln -s a ${s.mnt}/l2`,
      `truncate -s 0 ${s.mnt}/big.bin`,
      `rmdir ${s.mnt}/sub/deeper`,
    ]) {
      const r = await sh(cmd);
      t.not(r.status, 0, cmd);
      t.regex(r.stderr, /Read-only file system/, cmd);
    }
    t.is((await sh(`cat ${s.mnt}/a.txt`)).stdout, 'hello\n');

    const status = await tetherRun(['status', s.mnt]);
    t.regex(status.stdout, /read-only view, the snapshot "s1"/);

    const u = await v.unmount();
    t.is(u.status, 0, u.stderr);
    t.false((await sh('cat /proc/mounts')).stdout.includes(s.mnt));
    t.false(processAlive(pid!), 'the view daemon stopped');
    t.deepEqual(readdirSync(s.mnt), []);
  },
);

serial(
  `content the store lacks reads as ENODATA, and why says EDISCONDATA${skipped}`,
  async (t) => {
    const s = await snapshotOf(t);
    // The big file's blob file is gone (as if never cached); small blobs live in the database.
    rmSync(join(s.store, 'blobs'), { recursive: true });
    mkdirSync(join(s.store, 'blobs'));
    const v = await mountView(t, s.mnt, ['--snapshot', 's1', '--store', s.store]);
    t.is(v.mounted.status, 0, v.mounted.stderr);
    t.is((await sh(`stat -c %s ${s.mnt}/big.bin`)).stdout.trim(), String(1 << 20));
    const cat = await sh(`cat ${s.mnt}/big.bin`);
    t.not(cat.status, 0);
    t.regex(cat.stderr, /No data available/);
    const why = await tetherRun(['why', join(s.mnt, 'big.bin')]);
    t.is(why.status, 0, why.stderr);
    t.regex(why.stdout, /EDISCONDATA \(answered ENODATA to open\)/);
    t.regex(why.stdout, /snapshot "s1"/);
    t.is((await sh(`cat ${s.mnt}/a.txt`)).stdout, 'hello\n');
    t.regex((await tetherRun(['why', join(s.mnt, 'a.txt')])).stdout, /no failure recorded/);
  },
);

serial(
  `bad view requests are refused with a clear message and mount nothing${skipped}`,
  async (t) => {
    const s = await snapshotOf(t);
    mkdirSync(s.mnt);
    const cases: [string[], RegExp][] = [
      [['--snapshot', 'nope', '--store', s.store], /no snapshot named "nope".*it has: s1/],
      [['--snapshot', 's1', '--variant', 'local', '--store', s.store], /not both/],
      [
        ['--variant', 'sideways', '--store', s.store],
        /--variant must be one of local, server, base/,
      ],
      [['--variant', 'local', '--store', s.store], /is not a volume's/],
      [['--snapshot', 's1'], /--of MOUNTPOINT/],
      [['--snapshot', 's1', '--of', s.src], /not in a mounted tether volume/],
      [
        ['--snapshot', 's1', '--store', join(s.dir, 'nowhere')],
        /not a tether store|does not exist/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await tetherRun(['mount', ...args, s.mnt]);
      t.not(r.status, 0, args.join(' '));
      t.regex(r.stderr, message, args.join(' '));
    }
    writeFileSync(join(s.mnt, 'occupied'), '');
    const full = await tetherRun(['mount', '--snapshot', 's1', '--store', s.store, s.mnt]);
    t.regex(full.stderr, /is not empty/);
    t.false((await sh('cat /proc/mounts')).stdout.includes(s.mnt));
  },
);

serial(
  `a view whose daemon was killed is detached by unmount, and mounts again${skipped}`,
  async (t) => {
    const s = await snapshotOf(t);
    const v = await mountView(t, s.mnt, ['--snapshot', 's1', '--store', s.store]);
    t.is(v.mounted.status, 0, v.mounted.stderr);
    process.kill(viewPid(s.mnt)!, 'SIGKILL');
    const dead = await sh(`ls ${s.mnt}`, 5000);
    t.not(dead.status, 0);
    const u = await v.unmount();
    t.is(u.status, 0, u.stderr);
    t.false((await sh('cat /proc/mounts')).stdout.includes(s.mnt));
    const again = await mountView(t, s.mnt, ['--snapshot', 's1', '--store', s.store]);
    t.is(again.mounted.status, 0, again.mounted.stderr);
    t.is((await sh(`cat ${s.mnt}/a.txt`)).stdout, 'hello\n');
  },
);

// Hard links through snapshot take, restore and diff of plain directories: the restored files
// share an inode exactly where the original ones did (within a directory and across
// directories), the round trip diffs equal, a changed linking is reported, and the tree ids do
// not depend on the order the links were made in, nor on the scan cache.
import test from 'ava';
import { linkSync, mkdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from './run.js';

// One time for every file and directory (a time set just now would make the next scan read
// the file again, and two trees made at different times would differ in their mtimes).
const T0 = Math.floor(Date.now() / 1000) - 600;
const past = (f: string, s: number): void => {
  utimesSync(f, T0 + s, T0 + s);
};

/**
 * a/x = a/y = b/z (one group across directories), c/p = c/q (another with the same bytes),
 * s (linked from outside the snapshot's root only: no group), t (a plain file, same bytes).
 * `order` says which name of the first group is made first.
 */
function linkedTree(root: string, outside: string, order: 'x' | 'z' = 'x'): void {
  for (const d of ['a', 'b', 'c']) mkdirSync(join(root, d), { recursive: true });
  const first = order === 'x' ? join(root, 'a', 'x') : join(root, 'b', 'z');
  writeFileSync(first, 'shared\n');
  past(first, 0);
  for (const p of [join(root, 'a', 'x'), join(root, 'a', 'y'), join(root, 'b', 'z')]) {
    if (p !== first) linkSync(first, p);
  }
  writeFileSync(join(root, 'c', 'p'), 'shared\n');
  past(join(root, 'c', 'p'), 0);
  linkSync(join(root, 'c', 'p'), join(root, 'c', 'q'));
  writeFileSync(join(root, 's'), 'shared\n');
  past(join(root, 's'), 0);
  linkSync(join(root, 's'), outside);
  writeFileSync(join(root, 't'), 'shared\n');
  past(join(root, 't'), 0);
  for (const d of ['a', 'b', 'c', '']) past(join(root, d), 0);
}

const ino = (p: string): number => statSync(p).ino;

interface Taken {
  readonly id: string;
  readonly hashedFiles: number;
}

function take(t: { is: (a: unknown, b: unknown, m?: string) => void }, args: string[]): Taken {
  const r = tether(['snapshot', 'take', ...args, '--json']);
  t.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Taken;
}

const takeId = (t: Parameters<typeof take>[0], args: string[]): string => take(t, args).id;

test('restore makes the hard links the snapshot recorded, and the round trip diffs equal', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const src = join(dir, 'src');
  const store = join(dir, 'store');
  linkedTree(src, join(dir, 'outside'));
  takeId(t, ['v1', '--of', src, '--store', store]);
  const out = join(dir, 'out');
  const r = tether(['snapshot', 'restore', 'v1', out, '--store', store]);
  t.is(r.status, 0, r.stderr);

  const x = ino(join(out, 'a', 'x'));
  t.is(ino(join(out, 'a', 'y')), x, 'a/y is a/x');
  t.is(ino(join(out, 'b', 'z')), x, 'b/z is a/x, across directories');
  t.is(statSync(join(out, 'a', 'x')).nlink, 3);
  const p = ino(join(out, 'c', 'p'));
  t.is(ino(join(out, 'c', 'q')), p, 'c/q is c/p');
  t.not(p, x, 'two groups stay two files');
  t.is(statSync(join(out, 's')).nlink, 1, 'a link from outside the root is no group');
  t.is(statSync(join(out, 't')).nlink, 1);
  t.not(ino(join(out, 't')), x);

  const back = tether(['diff', 'v1', out, '--store', store]);
  t.is(back.status, 0, back.stdout + back.stderr);
  t.is(tether(['diff', 'v1', src, '--store', store]).status, 0);
});

test('diff reports a file whose linking changed', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const src = join(dir, 'src');
  const store = join(dir, 'store');
  linkedTree(src, join(dir, 'outside'));
  takeId(t, ['v1', '--of', src, '--store', store]);
  // b/z becomes a file of its own with the same bytes and times: only its linking differs.
  unlinkSync(join(src, 'b', 'z'));
  writeFileSync(join(src, 'b', 'z'), 'shared\n');
  past(join(src, 'b', 'z'), 0);
  // And t joins s's group (s's other name is outside: the group in the tree is {s, t}).
  unlinkSync(join(src, 't'));
  linkSync(join(src, 's'), join(src, 't'));
  const d = tether(['diff', 'v1', src, '--store', store]);
  t.is(d.status, 1, d.stderr);
  t.is(
    d.stdout,
    'M\tb/z\t(hard links with a/x -> none)\nM\ts\t(hard links none -> with s)\n' +
      'M\tt\t(hard links none -> with s)\n',
  );
  const json = tether(['diff', 'v1', src, '--store', store, '--json']);
  t.regex(json.stdout, /"links"/);
});

test('the tree id depends on the links, not on the order they were made in nor on the cache', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const one = join(dir, 'one');
  const two = join(dir, 'two');
  linkedTree(one, join(dir, 'out1'), 'x');
  linkedTree(two, join(dir, 'out2'), 'z');
  const a = takeId(t, ['a', '--of', one, '--store', join(dir, 's1')]);
  const b = takeId(t, ['b', '--of', two, '--store', join(dir, 's2')]);
  t.is(a, b, 'made in another order, the same tree');
  // Again through the scan cache, the linked directories unchanged but for one new file.
  for (const root of [one, two]) {
    writeFileSync(join(root, 'c', 'new'), 'n\n');
    past(join(root, 'c', 'new'), 1);
    past(join(root, 'c'), 1);
  }
  const cached = take(t, ['a2', '--of', one, '--store', join(dir, 's1')]);
  t.is(cached.hashedFiles, 1, 'through the cache: only the new file read');
  const again = cached.id;
  t.is(again, takeId(t, ['fresh', '--of', two, '--store', join(dir, 's3')]), 'cache or not');
  t.not(again, a);
  // Unlinked copies of the same bytes are another tree.
  const copies = join(dir, 'copies');
  linkedTree(copies, join(dir, 'out3'));
  for (const p of ['a/y', 'b/z', 'c/q']) {
    unlinkSync(join(copies, p));
    writeFileSync(join(copies, p), 'shared\n');
    past(join(copies, p), 0);
  }
  unlinkSync(join(dir, 'out3'));
  for (const d of ['a', 'b', 'c', '']) past(join(copies, d), 0);
  const c = takeId(t, ['c', '--of', copies, '--store', join(dir, 's4')]);
  t.not(c, a, 'the same bytes unlinked: another id');
});

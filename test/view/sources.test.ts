// The view sources without the kernel: a tree with conflicted paths replaced or hidden, a
// real directory with variants under canonical names, and the handler table's answers
// (EROFS for every write, ENODATA for bytes nowhere, the bytes otherwise).
import test from 'ava';
import { constants as C, mkdirSync, writeFileSync } from 'node:fs';
import { constants as os } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import type { Entry } from '../../src/tree/index.js';
import { DirSource } from '../../src/view/dir-source.js';
import { changedPaths, invalidateChanged } from '../../src/view/changes.js';
import { createViewHandlers } from '../../src/view/handlers.js';
import { BranchSource, fixedBranch } from '../../src/view/branches.js';
import { inodeOf, statOf, type ViewSource } from '../../src/view/node.js';
import { TreeSource } from '../../src/view/tree-source.js';
import { tempDir } from '../cli/run.js';

const file = (name: string, id?: string, size = 1): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size,
  mtimeNs: 1_000_000_000n,
  ...(id === undefined ? {} : { id }),
});

async function fixture(t: { teardown(fn: () => void): void }) {
  const { dir, cleanup } = tempDir('views-test-');
  const store = await Store.create(join(dir, 'store'));
  t.teardown(() => {
    void store.close().finally(cleanup);
  });
  const a = await store.putBlob(Buffer.from('a'));
  const b = await store.putBlob(Buffer.from('b'));
  const sub = store.putTree([file('x', b)]);
  const root = store.putTree([
    file('a', a),
    file('stamp-only'),
    { ...file('sub'), kind: 'dir', size: 0, id: sub },
  ]);
  await store.flush();
  return { dir, store, root, a, b };
}

const errnos = os.errno;
const names = async (s: ViewSource, p: string) => (await s.list(p))?.sort();

test('a tree source shows the tree, with overrides replacing, hiding and adding names', async (t) => {
  const f = await fixture(t);
  const plain = new TreeSource(f.store, f.root, { what: 'the test tree' });
  t.deepEqual(await names(plain, ''), ['a', 'stamp-only', 'sub']);
  t.deepEqual(await names(plain, 'sub'), ['x']);
  t.is(await plain.list('a'), undefined);
  t.is(await plain.lookup('nope/x'), undefined);
  t.deepEqual((await plain.lookup('sub/x'))?.content, { from: 'blob', id: f.b });
  t.is((await plain.lookup('stamp-only'))?.content?.from, 'none');

  const over = new TreeSource(f.store, f.root, {
    what: 'the test tree',
    overrides: new Map([
      ['a', file('a', f.b)],
      ['sub/x', null],
      ['sub/new', file('new', f.a)],
    ]),
    fallback: (path) =>
      path === 'stamp-only' ? { from: 'file', abs: Buffer.from('/x') } : undefined,
  });
  t.deepEqual((await over.lookup('a'))?.content, { from: 'blob', id: f.b });
  t.deepEqual(await names(over, 'sub'), ['new']);
  t.is(await over.lookup('sub/x'), undefined);
  t.deepEqual((await over.lookup('stamp-only'))?.content, { from: 'file', abs: Buffer.from('/x') });
});

test('a new root invalidates what the kernel holds that changed, and the names added', async (t) => {
  const f = await fixture(t);
  const was = new TreeSource(f.store, f.root, { what: 'the test tree' });
  const now = new TreeSource(f.store, f.root, {
    what: 'the test tree',
    overrides: new Map([
      ['a', file('a', f.b)],
      ['sub/x', null],
      ['sub/new', file('new', f.a)],
    ]),
  });
  t.deepEqual(await changedPaths(was, was, ['', 'a', 'sub', 'sub/x', 'stamp-only']), []);
  // Only what is asked about counts: `new` is a name added where the kernel holds `sub`.
  t.deepEqual((await changedPaths(was, now, ['', 'a', 'stamp-only'])).sort(), ['a']);
  t.deepEqual((await changedPaths(was, now, ['sub'])).sort(), ['sub/new', 'sub/x']);
  t.deepEqual((await changedPaths(was, now, ['sub/x', 'stamp-only'])).sort(), ['sub/x']);
  const told: string[] = [];
  const m = {
    cached: () => ['', '.tether', '.tether/s', '.tether/s/a', 'a'],
    invalidate: (p: string) => told.push(p),
  };
  t.is(await invalidateChanged(m, was, now, '.tether/s'), 1);
  t.deepEqual(told, ['.tether/s/a']);
});

test('hard links the tree records show one inode and their count, in a sub-view too', async (t) => {
  const f = await fixture(t);
  const sub = f.store.putTree([{ ...file('y', f.a), link: 'a' }]);
  const root = f.store.putTree([
    { ...file('a', f.a), link: 'a' },
    file('b', f.a),
    { ...file('sub'), kind: 'dir', size: 0, id: sub },
  ]);
  await f.store.flush();
  const tree = new TreeSource(f.store, root, { what: 'the test tree' });
  const stat = async (s: ViewSource, p: string) => statOf((await s.lookup(p))!, `/${p}`);
  const [a, y, b] = [await stat(tree, 'a'), await stat(tree, 'sub/y'), await stat(tree, 'b')];
  t.is(a.ino, y.ino);
  t.deepEqual([a.nlink, y.nlink, b.nlink], [2, 2, 1]);
  t.not(a.ino, b.ino);
  // Under a branch (the hidden tree's snapshots/NAME/…), the inode is the first member's there.
  const branch = new BranchSource(fixedBranch({ s1: () => tree }));
  const [ba, by] = [await stat(branch, 's1/a'), await stat(branch, 's1/sub/y')];
  t.is(ba.ino, by.ino);
  t.is(ba.ino, inodeOf('/s1/a'));
  t.not(ba.ino, a.ino);
});

test('a directory source maps variants to canonical names and hides the rest', async (t) => {
  const { dir, cleanup } = tempDir('views-test-');
  t.teardown(cleanup);
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'f'), 'server');
  writeFileSync(join(dir, 'f.conflict-local-x'), 'local!');
  writeFileSync(join(dir, 'gone'), 'server edit');
  writeFileSync(join(dir, '.tether-tmp-123'), '');
  writeFileSync(join(dir, 'd', 'p'), '');
  const s = new DirSource(dir, {
    overrides: new Map([
      ['f', { as: 'moved', real: 'f.conflict-local-x' }],
      ['f.conflict-local-x', { as: 'hidden' }],
      ['gone', { as: 'hidden' }],
      ['d', { as: 'entry', entry: { ...file('d'), kind: 'dir', mode: 0o700, size: 0 } }],
    ]),
    placeholder: (p) => p === 'd/p',
  });
  t.deepEqual(await names(s, ''), ['d', 'f']);
  const f = await s.lookup('f');
  t.is(f?.entry.size, 6);
  t.deepEqual(f?.content, { from: 'file', abs: Buffer.from(join(dir, 'f.conflict-local-x')) });
  t.is(await s.lookup('gone'), undefined);
  t.is((await s.lookup('d'))?.entry.mode, 0o700);
  t.is((await s.lookup('d/p'))?.content?.from, 'none');
});

/** Call a handler and get what it answered. */
const call = (fn: unknown, ...args: unknown[]): Promise<unknown[]> =>
  new Promise((resolve) => {
    (fn as (...a: unknown[]) => void)(...args, (...r: unknown[]) => {
      resolve(r);
    });
  });

test('the handlers answer EROFS to writes, ENODATA for bytes nowhere, and the bytes', async (t) => {
  const f = await fixture(t);
  const src = new TreeSource(f.store, f.root, { what: 'the test tree' });
  const noted: string[] = [];
  const ops = createViewHandlers(f.store, () => src, {
    noData: (p, op) => noted.push(`${op} ${p}`),
  });
  const erofs = -errnos.EROFS;
  for (const [op, args] of [
    ['write', ['/a', 1, Buffer.from('x'), 1, 0]],
    ['create', ['/new', 0o644, C.O_WRONLY]],
    ['mkdir', ['/d', 0o755]],
    ['unlink', ['/a']],
    ['rename', ['/a', '/b']],
    ['setxattr', ['/a', 'user.x', Buffer.from('v'), 0, 0]],
  ] as const) {
    t.deepEqual(await call(ops[op], ...args), [erofs], op);
  }
  t.deepEqual(await call(ops.open, '/a', C.O_WRONLY), [erofs]);
  t.deepEqual(await call(ops.open, '/stamp-only', C.O_RDONLY), [-errnos.ENODATA]);
  t.deepEqual(noted, ['open stamp-only']);
  const [err, fd] = await call(ops.open, '/sub/x', C.O_RDONLY);
  t.is(err, 0);
  const buf = Buffer.alloc(16);
  t.deepEqual(await call(ops.read, '/sub/x', fd, buf, 16, 0), [1]);
  t.is(buf.subarray(0, 1).toString(), 'b');
  t.is((await call(ops.release, '/sub/x', fd))[0], 0);
  const [, st] = (await call(ops.getattr, '/sub/x')) as [number, { mode: number; size: bigint }];
  t.is(st.mode, C.S_IFREG | 0o644);
  t.is(st.size, 1n);
});

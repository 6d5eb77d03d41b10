// Two-way diff: named cases for each status and metadata field, and a property against a naive
// reference (flatten both trees to path → entry maps and compare every path) on random trees
// with names that are not UTF-8, type changes and nesting.
import test from 'ava';
import fc from 'fast-check';
import { changeOf, diffStat, diffTrees, type Change } from '../../src/merge/diff.js';
import { compareBytes, display, type Entry, type TreeReader } from '../../src/tree/index.js';
import { dir, file, link, MemReader, T0, type Spec } from './fixtures.js';
import { baseArb, mutate, mutationsArb } from './random.js';

const show = (cs: readonly Change[]): string[] =>
  cs.map((c) =>
    c.status === 'M' && !c.fields.includes('content')
      ? `M ${display(c.path)} (${c.fields.join(',')})`
      : `${c.status} ${display(c.path)}`,
  );

const cases: { name: string; a: Spec; b: Spec; want: string[] }[] = [
  { name: 'equal trees', a: { f: 'x', d: { g: 'y' } }, b: { f: 'x', d: { g: 'y' } }, want: [] },
  { name: 'added file', a: {}, b: { f: 'x' }, want: ['A f'] },
  { name: 'deleted file', a: { f: 'x' }, b: {}, want: ['D f'] },
  { name: 'edited file', a: { f: 'x' }, b: { f: 'y' }, want: ['M f'] },
  {
    name: 'mode only',
    a: { f: file('x', { mode: 0o644 }) },
    b: { f: file('x', { mode: 0o755 }) },
    want: ['M f (mode)'],
  },
  {
    name: 'touch only',
    a: { f: file('x') },
    b: { f: file('x', { mtime: T0 + 1_000_000n }) },
    want: ['M f (mtime)'],
  },
  {
    name: 'mtimes within the 2 µs window are the same time (copies carry times to the µs)',
    a: { f: file('x') },
    b: { f: file('x', { mtime: T0 + 1_500n }) },
    want: [],
  },
  {
    name: 'xattr only',
    a: { f: file('x', { xattrs: { 'user.a': '1' } }) },
    b: { f: file('x', { xattrs: { 'user.a': '2' } }) },
    want: ['M f (xattrs)'],
  },
  { name: 'owner only', a: { f: file('x') }, b: { f: file('x', { uid: 7 }) }, want: ['M f (uid)'] },
  { name: 'symlink retargeted', a: { l: link('t') }, b: { l: link('u') }, want: ['M l'] },
  {
    name: 'file becomes a directory: its children are added',
    a: { f: 'x' },
    b: { f: { g: 'y' } },
    want: ['T f', 'A f/g'],
  },
  {
    name: 'directory becomes a symlink: its children are deleted',
    a: { d: { g: 'y', h: { i: 'z' } } },
    b: { d: link('t') },
    want: ['T d', 'D d/g', 'D d/h', 'D d/h/i'],
  },
  {
    name: 'added directory lists itself and everything below, empty ones too',
    a: {},
    b: { d: { e: {}, f: 'x' } },
    want: ['A d', 'A d/e', 'A d/f'],
  },
  {
    name: 'a directory whose listing changed is not itself a change',
    a: { d: { f: 'x' } },
    b: { d: { f: 'x', g: 'y' } },
    want: ['A d/g'],
  },
  {
    name: 'a directory whose mode changed is',
    a: { d: dir({ f: 'x' }, { mode: 0o755 }) },
    b: { d: dir({ f: 'x' }, { mode: 0o700 }) },
    want: ['M d (mode)'],
  },
  {
    name: 'sorted by path bytes, not walk order',
    a: { a: { b: 'x' }, 'a-c': 'x' },
    b: { a: { b: 'y' }, 'a-c': 'y' },
    want: ['M a-c', 'M a/b'],
  },
];

for (const c of cases) {
  test(`diff: ${c.name}`, (t) => {
    const r = new MemReader();
    t.deepEqual(show(diffTrees(r, r.build(c.a), r.build(c.b))), c.want);
  });
}

/** Rename top-level `from` to the raw bytes `to` (fixtures take names as text). */
function rawName(r: MemReader, root: string, from: string, to: string): string {
  const flat = r.flatten(root);
  const e = flat.get(from);
  if (e === undefined) return root;
  flat.delete(from);
  flat.set(to, { ...e, name: to });
  return r.fromFlat(flat);
}

test('diff: names that are not UTF-8 are compared and sorted as bytes', (t) => {
  const r = new MemReader();
  const a = rawName(r, r.build({ cafe: 'x' }), 'cafe', 'caf\xe9');
  const b = rawName(
    r,
    rawName(r, r.build({ cafe: 'y', z: 'z' }), 'cafe', 'caf\xe9'),
    'z',
    '\xff\xfe',
  );
  t.deepEqual(show(diffTrees(r, a, b)), ['M "caf\\351"', 'A "\\377\\376"']);
});

test('diff skips subtrees whose ids are equal: reads grow with the changes, not the tree', (t) => {
  const r = new MemReader();
  const big: Record<string, Spec> = {};
  for (let i = 0; i < 200; i++) {
    const leafs: Record<string, string> = {};
    for (let j = 0; j < 20; j++) leafs[`f${j}`] = `c${i}-${j}`;
    big[`d${i}`] = leafs;
  }
  const a = r.build(big);
  const b = r.build({ ...big, d7: { ...(big.d7 as Record<string, string>), f3: 'changed' } });
  let reads = 0;
  const counting: TreeReader = {
    readTree: (id) => {
      reads++;
      return r.readTree(id);
    },
  };
  t.deepEqual(show(diffTrees(counting, a, b)), ['M d7/f3']);
  t.is(reads, 4, 'the two roots and the two d7 listings only');
});

test('diffStat counts statuses and content bytes', (t) => {
  const r = new MemReader();
  const cs = diffTrees(
    r,
    r.build({ f: 'abc', g: 'de', m: file('q', { mode: 0o600 }) }),
    r.build({ f: 'abcdef', h: 'xyzw', m: file('q', { mode: 0o644 }) }),
  );
  t.deepEqual(diffStat(cs), {
    added: 1,
    deleted: 1,
    modified: 2,
    typeChanged: 0,
    bytesAdded: 6 + 4,
    bytesRemoved: 3 + 2,
  });
});

/** The naive reference: every path of either tree, compared entry by entry. */
function naive(r: MemReader, a: string, b: string): Change[] {
  const fa = r.flatten(a);
  const fb = r.flatten(b);
  const out: Change[] = [];
  for (const p of new Set([...fa.keys(), ...fb.keys()])) {
    const c = changeOf(p, fa.get(p), fb.get(p));
    if (c !== undefined) out.push(c);
  }
  return out.sort((x, y) => compareBytes(x.path, y.path));
}

const strip = (e: Entry | null): unknown =>
  e === null ? null : { ...e, id: e.kind === 'dir' ? undefined : e.id };

test('property: diff equals the naive path-by-path reference on random trees', (t) => {
  fc.assert(
    fc.property(baseArb, mutationsArb, fc.boolean(), (spec, muts, rename) => {
      const r = new MemReader();
      // Names that are not UTF-8 and a deeper chain, so byte order and nesting are exercised.
      const base = rawName(
        r,
        r.build({ ...spec, raw: 'x', deep: { a: { b: { c: 'y' } } } }),
        'raw',
        '\xe9t\xe9',
      );
      let other = mutate(r, base, muts);
      if (rename) other = rawName(r, other, '\xe9t\xe9', '\xff');
      const got = diffTrees(r, base, other);
      const want = naive(r, base, other);
      t.deepEqual(
        got.map((c) => [c.path, c.status, c.fields, strip(c.a), strip(c.b)]),
        want.map((c) => [c.path, c.status, c.fields, strip(c.a), strip(c.b)]),
      );
      const back = diffTrees(r, other, base);
      t.deepEqual(
        back.map((c) => c.path),
        got.map((c) => c.path),
        'the reverse diff names the same paths',
      );
    }),
    { seed: 20261125, numRuns: 300 },
  );
});

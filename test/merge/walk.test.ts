// The n-way walk: rows in name-byte order, rows equal on every side skipped (found as bytes,
// not decoded), and subtrees equal on every side not entered.
import test from 'ava';
import fc from 'fast-check';
import { differingRows, walkTrees, type Row, type Skimmed } from '../../src/merge/walk.js';
import {
  encodeTree,
  entriesEqual,
  skimEntries,
  type Entry,
  type Tree,
} from '../../src/tree/index.js';
import { MemReader } from './fixtures.js';

const skim = (t: Tree | undefined): Skimmed | undefined => {
  if (t === undefined) return undefined;
  const bytes = encodeTree(t);
  return { bytes, at: skimEntries(bytes) };
};
const zip = (lists: (Tree | undefined)[]): Row[] => differingRows(lists.map(skim)).rows;

/** The reference: every name in order, each side's entry; rows equal on every side left out. */
function naiveRows(lists: (Tree | undefined)[]): { rows: Row[]; same: number } {
  const names = [...new Set(lists.flatMap((l) => (l ?? []).map((x) => x.name)))].sort();
  const rows: Row[] = [];
  let same = 0;
  for (const name of names) {
    const entries = lists.map((l) => l?.find((x) => x.name === name));
    const first = entries[0];
    if (first !== undefined && entries.every((x) => x !== undefined && entriesEqual(first, x))) {
      same++;
    } else rows.push({ name, entries });
  }
  return { rows, same };
}

const e = (name: string): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 0,
  mtimeNs: 0n,
});

test('walk: zip rows follow byte order, absent sides are undefined', (t) => {
  const rows = zip([[e('a'), e('c')], undefined, [e('b'), e('c'), e('\xe9')]]);
  t.deepEqual(
    rows.map((r) => `${r.name}:${r.entries.map((x) => (x === undefined ? '-' : '+')).join('')}`),
    ['a:+--', 'b:--+', 'c:+-+', '\xe9:--+'],
  );
});

test('walk: byte order puts uppercase and digits before lowercase, bytes ≥ 0x80 last', (t) => {
  const rows = zip([[e('0'), e('B'), e('a'), e('\x80')], [e('A')]]);
  t.deepEqual(
    rows.map((r) => r.name),
    ['0', 'A', 'B', 'a', '\x80'],
  );
});

test('walk: a row that is the same bytes on every side is counted, not returned', (t) => {
  const edited = { ...e('b'), size: 1 };
  const r = differingRows([skim([e('a'), e('b')]), skim([e('a'), edited])]);
  t.is(r.same, 1);
  t.deepEqual(r.rows, [{ name: 'b', entries: [e('b'), edited] }]);
});

test('walk: property: zipping encodings gives the rows a naive zip of the listings gives', (t) => {
  const name = fc.constantFrom('a', 'b', 'B', 'c', '0', '\x80', '\xe9', '\xff', 'ab', 'a\x01');
  const entry = fc.record({
    name,
    size: fc.constantFrom(0, 1, 2),
    mode: fc.constantFrom(0o644, 0o600),
  });
  const listing = fc
    .uniqueArray(entry, { selector: (x) => x.name, maxLength: 8 })
    .map((xs): Tree =>
      xs
        .map((x) => ({ ...e(x.name), size: x.size, mode: x.mode }))
        .sort((p, q) => (p.name < q.name ? -1 : 1)),
    );
  const side = fc.option(listing, { nil: undefined, freq: 6 });
  fc.assert(
    fc.property(fc.array(side, { minLength: 1, maxLength: 3 }), (lists) => {
      const got = differingRows(lists.map(skim));
      t.deepEqual(got, naiveRows(lists));
    }),
  );
  t.pass();
});

test('walk: equal rows are skipped and equal subtrees are not entered', (t) => {
  const r = new MemReader();
  const same = { s: { t: 'deep' } };
  const a = r.build({ ...same, x: { y: '1' }, z: 'z' });
  const b = r.build({ ...same, x: { y: '2' }, z: 'z' });
  const visited: string[] = [];
  walkTrees(r, [a, b], (path) => {
    visited.push(path);
    return true;
  });
  t.deepEqual(visited, ['x', 'x/y']);
});

test('walk: returning false does not descend', (t) => {
  const r = new MemReader();
  const a = r.build({ x: { y: '1' } });
  const b = r.build({ x: { y: '2' } });
  const visited: string[] = [];
  walkTrees(r, [a, b, undefined], (path) => {
    visited.push(path);
    return false;
  });
  t.deepEqual(visited, ['x']);
});

// The n-way walk: rows in name-byte order, and subtrees equal on every side not entered.
import test from 'ava';
import { walkTrees, zipListings } from '../../src/merge/walk.js';
import type { Entry } from '../../src/tree/index.js';
import { MemReader } from './fixtures.js';

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
  const rows = zipListings([[e('a'), e('c')], undefined, [e('b'), e('c'), e('\xe9')]]);
  t.deepEqual(
    rows.map((r) => `${r.name}:${r.entries.map((x) => (x === undefined ? '-' : '+')).join('')}`),
    ['a:+--', 'b:--+', 'c:+-+', '\xe9:--+'],
  );
});

test('walk: byte order puts uppercase and digits before lowercase, bytes ≥ 0x80 last', (t) => {
  const rows = zipListings([[e('0'), e('B'), e('a'), e('\x80')], [e('A')]]);
  t.deepEqual(
    rows.map((r) => r.name),
    ['0', 'A', 'B', 'a', '\x80'],
  );
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

// Field comparison: which fields differ, and the stamp rule for entries without a content id.
import test from 'ava';
import { changedFields, hashBytes, sameContent, type Entry } from './helpers.js';

const A = hashBytes(Buffer.from('a'));
const B = hashBytes(Buffer.from('b'));
const base: Entry = {
  name: 'f',
  kind: 'file',
  mode: 0o644,
  uid: 1,
  gid: 1,
  size: 1,
  mtimeNs: 100n,
  id: A,
};
const stamp = (e: Entry): Entry => {
  const { id: _unused, ...rest } = e;
  return rest;
};

const cases: [string, Entry, Entry, string[]][] = [
  ['identical', base, base, []],
  ['content', base, { ...base, id: B }, ['content']],
  ['chmod', base, { ...base, mode: 0o755 }, ['mode']],
  ['touch', base, { ...base, mtimeNs: 200n }, ['mtime']],
  ['chown', base, { ...base, uid: 2, gid: 3 }, ['uid', 'gid']],
  ['xattr', base, { ...base, xattrs: [['user.k', Buffer.from('v')]] }, ['xattrs']],
  ['type', base, { ...base, kind: 'symlink', target: 'x' }, ['kind']],
  ['edit + chmod', base, { ...base, id: B, mode: 0o600 }, ['content', 'mode']],
  ['stamp equal', stamp(base), base, []],
  ['stamp moved', stamp(base), { ...base, mtimeNs: 101n }, ['content', 'mtime']],
  ['stamp size', stamp(base), { ...base, size: 2 }, ['content']],
  [
    'dir mtime ignored',
    { ...base, kind: 'dir', size: 0 },
    { ...base, kind: 'dir', size: 0, mtimeNs: 5n },
    [],
  ],
];
for (const [label, a, b, fields] of cases) {
  test(`changedFields: ${label}`, (t) => {
    t.deepEqual(changedFields(a, b), fields);
    t.deepEqual(changedFields(b, a), fields, 'symmetric');
  });
}

test('sameContent compares ids when both are known, stamps otherwise', (t) => {
  t.true(sameContent(base, { ...base, mtimeNs: 999n }), 'ids decide, mtime does not');
  t.false(sameContent(base, { ...base, id: B }));
  t.true(sameContent(stamp(base), base));
  t.false(sameContent(stamp(base), { ...base, mtimeNs: 1n }));
});

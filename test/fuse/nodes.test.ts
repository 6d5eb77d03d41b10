// The low-level binding's node table: node ids by view inode (hard links are one node), paths
// from names, renames moving names, forget releasing nodes.
import test from 'ava';
import { NodeTable, ROOT } from '../../src/fuse/nodes.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('a looked-up name has a node and a path; the root is /', (t) => {
  const n = new NodeTable(100);
  t.is(n.pathOf(ROOT), '/');
  const d = n.learn(ROOT, b('dir'), 200);
  const f = n.learn(d.id, b('file'), 300);
  t.not(d.id, ROOT);
  t.is(n.pathOf(d.id), '/dir');
  t.is(n.pathOf(f.id), '/dir/file');
  t.is(n.childPath(f.id, b('x')), '/dir/file/x');
  t.is(n.child(d.id, b('file')), f);
});

test('names are bytes: a name that is not UTF-8 keeps its bytes in the path', (t) => {
  const n = new NodeTable(1);
  const raw = Buffer.from([0x66, 0xff, 0xfe]);
  const f = n.learn(ROOT, raw, 2);
  t.deepEqual(Buffer.from(n.pathOf(f.id)!.slice(1), 'latin1'), raw);
});

test('hard links are one node; unlinking one name leaves the other', (t) => {
  const n = new NodeTable(1);
  const a = n.learn(ROOT, b('a'), 7);
  const l = n.learn(ROOT, b('b'), 7);
  t.is(a, l);
  t.is(n.pathOf(a.id), '/b');
  n.unlinked(ROOT, b('b'));
  t.is(n.pathOf(a.id), '/a');
  n.unlinked(ROOT, b('a'));
  t.is(n.pathOf(a.id), undefined);
  // The inode number may be reused by a new file: that is a new node.
  t.not(n.learn(ROOT, b('c'), 7).id, a.id);
});

test('a rename moves a name, and with a directory everything under it', (t) => {
  const n = new NodeTable(1);
  const d = n.learn(ROOT, b('d'), 2);
  const f = n.learn(d.id, b('f'), 3);
  const e = n.learn(ROOT, b('e'), 4);
  n.renamed(ROOT, b('d'), e.id, b('moved'));
  t.is(n.pathOf(d.id), '/e/moved');
  t.is(n.pathOf(f.id), '/e/moved/f');
  t.is(n.child(ROOT, b('d')), undefined);
});

test('a rename over an existing name takes the name from the node that had it', (t) => {
  const n = new NodeTable(1);
  const x = n.learn(ROOT, b('x'), 2);
  const y = n.learn(ROOT, b('y'), 3);
  n.renamed(ROOT, b('x'), ROOT, b('y'));
  t.is(n.pathOf(x.id), '/y');
  t.is(n.pathOf(y.id), undefined);
});

test('a name that now holds another inode moves to that node', (t) => {
  const n = new NodeTable(1);
  const old = n.learn(ROOT, b('f'), 2);
  const now = n.learn(ROOT, b('f'), 9);
  t.not(old.id, now.id);
  t.is(n.pathOf(old.id), undefined);
  t.is(n.pathOf(now.id), '/f');
});

test('forget releases a node once every lookup is returned; the root stays', (t) => {
  const n = new NodeTable(1);
  const f = n.learn(ROOT, b('f'), 2);
  n.ref(f, 3);
  n.forget(f.id, 2);
  t.is(n.get(f.id), f);
  n.forget(f.id, 1);
  t.is(n.get(f.id), undefined);
  t.is(n.child(ROOT, b('f')), undefined);
  n.forget(ROOT, 5);
  t.is(n.pathOf(ROOT), '/');
  t.is(n.size, 1);
});

test('a node made for a reply that did not carry it is dropped; a referenced one is not', (t) => {
  const n = new NodeTable(1);
  const unused = n.learn(ROOT, b('u'), 2);
  const used = n.learn(ROOT, b('v'), 3);
  n.ref(used);
  n.dropIfUnused(unused);
  n.dropIfUnused(used);
  t.is(n.get(unused.id), undefined);
  t.is(n.get(used.id), used);
});

test('a node made elsewhere under a reserved id: its name, its inode, one reference', (t) => {
  const n = new NodeTable(1);
  const d = n.learn(ROOT, b('d'), 2);
  const first = n.reserve(4);
  // Ids made after the reservation are none of the reserved ones.
  const other = n.learn(ROOT, b('other'), 3);
  t.true(other.id >= first + 4);
  // A stale node of a gone file whose inode number the new file now has.
  const stale = n.learn(d.id, b('old'), 9);
  const f = n.adopt(first, d.id, b('new'), 9);
  t.is(f.id, first);
  t.is(n.get(first), f);
  t.is(n.pathOf(f.id), '/d/new');
  t.is(n.child(d.id, b('new')), f);
  // A later lookup of the file finds the adopted node, not the stale one.
  t.is(n.learn(d.id, b('link'), 9), f);
  t.is(n.get(stale.id), stale);
  n.forget(f.id, 1);
  t.is(n.get(f.id), undefined);
});

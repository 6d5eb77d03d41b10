// Content edits (rules F, V; invariant 5): one-sided edits in both directions, edit/edit,
// equal edits, touches, and files known only by their stamp.
import test from 'ava';
import { merge } from '../../src/merge/merge.js';
import { file, idOf, MemReader, NOW, ops, runCases, scenario, T0, type Case } from './helpers.js';
import { rootsOf } from './sim.js';

const cases: Case[] = [
  {
    name: 'edited locally → server gets it',
    base: { f: 'a' },
    local: { f: 'b' },
    server: { f: 'a' },
    want: { tree: { f: 'b' }, ops: ['put server f'] },
  },
  {
    name: 'edited on the server → local gets it',
    base: { f: 'a' },
    local: { f: 'a' },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, ops: ['put local f'] },
  },
  {
    name: 'edit/edit: server version at the path, local b as variant',
    base: { f: 'a' },
    local: { f: 'b' },
    server: { f: 'c' },
    want: { tree: { f: 'c' }, conflicts: ['edit/edit f'], variants: { f: 'b' } },
  },
  {
    name: 'edit/edit mirrored: server version at the path, local c as variant',
    base: { f: 'a' },
    local: { f: 'c' },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, conflicts: ['edit/edit f'], variants: { f: 'c' } },
  },
  {
    name: 'the same edit on both sides is no conflict',
    base: { f: 'a', g: 'g' },
    local: { f: 'b', g: 'g' },
    server: { f: 'b', g: 'g' },
    want: { tree: { f: 'b', g: 'g' }, ops: [] },
  },
  {
    name: 'an edit undone locally (content back to base) is only a touch',
    base: { f: file('a') },
    local: { f: file('a', { mtime: T0 + 5n }) },
    server: { f: file('b', { mtime: T0 + 1n }) },
    want: { tree: { f: file('b', { mtime: T0 + 5n }) } },
  },
  {
    name: 'an edit undone on the server is only a touch',
    base: { f: file('a') },
    local: { f: file('b', { mtime: T0 + 1n }) },
    server: { f: file('a', { mtime: T0 + 5n }) },
    want: { tree: { f: file('b', { mtime: T0 + 5n }) } },
  },
  {
    name: 'touch locally → the server takes the mtime, no content moves',
    base: { f: 'a' },
    local: { f: file('a', { mtime: T0 + 5n }) },
    server: { f: 'a' },
    want: { tree: { f: file('a', { mtime: T0 + 5n }) }, ops: ['setmeta server f mtime'] },
  },
  {
    name: 'touch on the server → local takes the mtime',
    base: { f: 'a' },
    local: { f: 'a' },
    server: { f: file('a', { mtime: T0 + 5n }) },
    want: { tree: { f: file('a', { mtime: T0 + 5n }) }, ops: ['setmeta local f mtime'] },
  },
  {
    name: 'touched on both sides: the newer mtime wins, no conflict',
    base: { f: 'a' },
    local: { f: file('a', { mtime: T0 + 7n }) },
    server: { f: file('a', { mtime: T0 + 3n }) },
    want: { tree: { f: file('a', { mtime: T0 + 7n }) }, ops: ['setmeta server f mtime'] },
  },
  {
    name: 'stamp-only server file unchanged, local edit → uploaded',
    base: { f: file('a', { stampOnly: true }) },
    local: { f: file('b', { mtime: T0 + 9n }) },
    server: { f: file('a', { stampOnly: true }) },
    want: { tree: { f: file('b', { mtime: T0 + 9n }) }, ops: ['put server f'] },
  },
  {
    name: 'stamp-only server file whose stamp moved → fetched',
    base: { f: file('a', { stampOnly: true }) },
    local: { f: 'a' },
    server: { f: file('c', { stampOnly: true, mtime: T0 + 9n }) },
    want: { tree: { f: file('c', { stampOnly: true, mtime: T0 + 9n }) }, ops: ['put local f'] },
  },
  {
    name: 'stamp moved on the server and local edited: an unknown id is a change → conflict',
    base: { f: file('a', { stampOnly: true }) },
    local: { f: file('b', { mtime: T0 + 4n }) },
    server: { f: file('c', { stampOnly: true, mtime: T0 + 9n }) },
    want: {
      tree: { f: file('c', { stampOnly: true, mtime: T0 + 9n }) },
      conflicts: ['edit/edit f'],
      variants: { f: file('b', { mtime: T0 + 4n }) },
    },
  },
  {
    name: 'edits deep in a tree travel; untouched siblings are left alone',
    base: { d: { e: { f: 'a', g: 'g' } }, h: 'h' },
    local: { d: { e: { f: 'b', g: 'g' } }, h: 'h' },
    server: { d: { e: { f: 'a', g: 'g' } }, h: 'h2' },
    want: {
      tree: { d: { e: { f: 'b', g: 'g' } }, h: 'h2' },
      ops: ['put server d/e/f', 'put local h'],
    },
  },
];
runCases(test, 'edit', cases);

test('edit: a subtree equal on all sides is not read (resolved without descending)', (t) => {
  const reader = new MemReader();
  const big = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, `${i}`]));
  const base = reader.build({ same: big, x: 'a' });
  const local = reader.build({ same: big, x: 'b' });
  const sameId = reader.flatten(base).get('same')!.id!;
  const reads: string[] = [];
  const counting = { readTree: (id: string) => (reads.push(id), reader.readTree(id)) };
  const plan = merge(counting, base, local, base, { now: NOW });
  t.deepEqual(
    plan.actions.map((a) => a.path),
    ['x'],
  );
  t.false(reads.includes(sameId), 'the equal subtree was never read');
});

test('edit: base at a conflicted path takes the server version, never the local variant', (t) => {
  const sc = scenario({ f: 'a' }, { f: 'b' }, { f: 'c' });
  const updates = sc.plan.baseUpdates.filter((u) => u.path === 'f');
  t.is(updates.at(-1)?.entry?.id, idOf('c'));
  t.false(updates.some((u) => u.entry?.id === idOf('b')));
});

test('edit: editing the canonical file after a conflict is a plain edit, not a second conflict', (t) => {
  const sc = scenario({ f: 'a' }, { f: 'b' }, { f: 'c' });
  const roots = rootsOf(sc.reader, sc.after);
  const edited = new Map(sc.after.local);
  edited.set('f', sc.reader.entry('f', 'd'));
  const plan = merge(sc.reader, roots.base, sc.reader.fromFlat(edited), roots.server, { now: NOW });
  t.deepEqual(ops(plan), ['put server f']);
  t.deepEqual(plan.conflicts, []);
});

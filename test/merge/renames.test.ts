// Rule R: local renames come from the journal and are planned as renames (no data sent);
// server renames are given or inferred from a delete plus a create with the same content id.
// An edit on the other side lands at the new name; an unusable rename falls back to plain
// delete + create without losing anything.
import test from 'ava';
import { ops, runCases, scenario, type Case } from './helpers.js';

const k = 'k';
const cases: Case[] = [
  {
    name: 'local rename → renamed on the server, no data sent',
    base: { f: 'a', k },
    local: { g: 'a', k },
    server: { f: 'a', k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'a', k }, ops: ['rename server f -> g'] },
  },
  {
    name: 'server rename inferred (same content id) → renamed locally',
    base: { f: 'a', k },
    local: { f: 'a', k },
    server: { g: 'a', k },
    want: { tree: { g: 'a', k }, ops: ['rename local f -> g'] },
  },
  {
    name: 'server rename given by the caller → renamed locally',
    base: { f: 'a', k },
    local: { f: 'a', k },
    server: { g: 'a', k },
    opts: { serverRenames: [{ from: 'f', to: 'g' }], inferServerRenames: false },
    want: { tree: { g: 'a', k }, ops: ['rename local f -> g'] },
  },
  {
    name: 'inference off: delete + copy instead',
    base: { f: 'a', k },
    local: { f: 'a', k },
    server: { g: 'a', k },
    opts: { inferServerRenames: false },
    want: { tree: { g: 'a', k }, ops: ['delete local f', 'put local g'] },
  },
  {
    name: 'local rename + server edit: the edit lands at the new name',
    base: { f: 'a', k },
    local: { g: 'a', k },
    server: { f: 'b', k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'b', k }, ops: ['rename server f -> g', 'put local g'] },
  },
  {
    name: 'server rename + local edit: the edit lands at the new name',
    base: { f: 'a', k },
    local: { f: 'b', k },
    server: { g: 'a', k },
    want: { tree: { g: 'b', k }, ops: ['rename local f -> g', 'put server g'] },
  },
  {
    name: 'local rename + edit after it: renamed, then the edit uploaded',
    base: { f: 'a', k },
    local: { g: 'b', k },
    server: { f: 'a', k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'b', k }, ops: ['rename server f -> g', 'put server g'] },
  },
  {
    name: 'rename/rename: both names kept, informational record',
    base: { f: 'a', k },
    local: { g: 'a', k },
    server: { h: 'a', k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'a', h: 'a', k }, conflicts: ['rename/rename f (info)'] },
  },
  {
    name: 'the same rename on both sides: clean',
    base: { f: 'a', k },
    local: { g: 'a', k },
    server: { g: 'a', k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'a', k }, ops: [] },
  },
  {
    name: 'a directory rename moves the whole subtree, no data sent',
    base: { d: { x: 'x', y: { z: 'z' } }, k },
    local: { e: { x: 'x', y: { z: 'z' } }, k },
    server: { d: { x: 'x', y: { z: 'z' } }, k },
    opts: { localRenames: [{ from: 'd', to: 'e' }] },
    want: { tree: { e: { x: 'x', y: { z: 'z' } }, k }, ops: ['rename server d -> e'] },
  },
  {
    name: 'a server directory rename is inferred from its tree id',
    base: { d: { x: 'x' }, k },
    local: { d: { x: 'x' }, k },
    server: { e: { x: 'x' }, k },
    want: { tree: { e: { x: 'x' }, k }, ops: ['rename local d -> e'] },
  },
  {
    name: 'rename across existing directories',
    base: { d: { f: 'a' }, e: {}, k },
    local: { d: {}, e: { g: 'a' }, k },
    server: { d: { f: 'a' }, e: {}, k },
    opts: { localRenames: [{ from: 'd/f', to: 'e/g' }] },
    want: { tree: { d: {}, e: { g: 'a' }, k }, ops: ['rename server d/f -> e/g'] },
  },
  {
    name: 'rename into a directory new on this side falls back to create + delete',
    base: { f: 'a', k },
    local: { n: { g: 'a' }, k },
    server: { f: 'a', k },
    opts: { localRenames: [{ from: 'f', to: 'n/g' }] },
    want: {
      tree: { n: { g: 'a' }, k },
      ops: ['delete server f', 'mkdir server n', 'put server n/g'],
    },
  },
  {
    name: 'rename onto a name the server took falls back: add/add, nothing lost',
    base: { f: 'a', k },
    local: { g: 'a', k },
    server: { f: 'a', g: 'z', k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'z', k }, conflicts: ['add/add g'], variants: { g: 'a' } },
  },
  {
    name: 'local rename, source deleted on the server: the new name is uploaded',
    base: { f: 'a', k },
    local: { g: 'a', k },
    server: { k },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'a', k }, ops: ['put server g'] },
  },
  {
    name: 'ambiguous inference (two deletions, one content) is not a rename',
    base: { f: 'a', h: 'a', k },
    local: { f: 'a', h: 'a', k },
    server: { g: 'a', k },
    want: { tree: { g: 'a', k }, ops: ['delete local f', 'put local g', 'delete local h'] },
  },
  {
    name: 'a rename of a name into itself is ignored',
    base: { d: { x: 'x' }, k },
    local: { d: { x: 'x' }, k },
    server: { d: { x: 'x' }, k },
    opts: { localRenames: [{ from: 'd', to: 'd/e' }] },
    want: { tree: { d: { x: 'x' }, k }, ops: [] },
  },
];
runCases(test, 'rename', cases);

test('rename: the order renames are given in does not change the plan (determinism)', (t) => {
  const base = { a: 'a', b: 'b', d: {}, k: 'k' };
  const local = { d: { a2: 'a', b2: 'b' }, k: 'k' };
  const renames = [
    { from: 'a', to: 'd/a2' },
    { from: 'b', to: 'd/b2' },
  ];
  const one = scenario(base, local, base, { localRenames: renames });
  const two = scenario(base, local, base, { localRenames: [...renames].reverse() });
  t.deepEqual(ops(one.plan), ['rename server a -> d/a2', 'rename server b -> d/b2']);
  t.deepEqual(ops(two.plan), ops(one.plan));
});

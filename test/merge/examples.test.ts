// Every row of MERGE.md's examples table, as written there (local → server direction; each
// family's own file has the mirrored direction).
import test from 'ava';
import { isTetherError } from '../../src/errors.js';
import { dir, file, link, runCases, scenario, type Case } from './helpers.js';

const cases: Case[] = [
  {
    name: 'f:a | f:b | — → server gets f:b',
    base: { f: 'a' },
    local: { f: 'b' },
    server: { f: 'a' },
    want: { tree: { f: 'b' }, ops: ['put server f'] },
  },
  {
    name: 'f:a | f:b | f:b → clean, base → b',
    base: { f: 'a' },
    local: { f: 'b' },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, ops: [] },
  },
  {
    name: 'f:a | f:b | f:c → f:c at f, local b as variant',
    base: { f: 'a' },
    local: { f: 'b' },
    server: { f: 'c' },
    want: { tree: { f: 'c' }, conflicts: ['edit/edit f'], variants: { f: 'b' } },
  },
  {
    name: 'f:a | f:b | ∅ → f:b re-created on the server, record modify/delete',
    base: { f: 'a', keep: 'k' },
    local: { f: 'b', keep: 'k' },
    server: { keep: 'k' },
    want: {
      tree: { f: 'b', keep: 'k' },
      conflicts: ['modify/delete f (info)'],
      ops: ['put server f'],
    },
  },
  {
    name: '∅ | f:a | f:b → add/add: f:b at f, a as variant',
    base: {},
    local: { f: 'a' },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, conflicts: ['add/add f'], variants: { f: 'a' } },
  },
  {
    name: 'f:a/644 | f:a/755 | f:b/644 → f:b/755, clean',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o755 }) },
    server: { f: file('b', { mode: 0o644 }) },
    want: { tree: { f: file('b', { mode: 0o755 }) } },
  },
  {
    name: 'f:a/644 | /755 | /600 → mode conflict: 600 at f, 755 in the record, no sibling',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o755 }) },
    server: { f: file('a', { mode: 0o600 }) },
    want: { tree: { f: file('a', { mode: 0o600 }) }, conflicts: ['metadata f'] },
  },
  {
    name: 'f:a | touch only | f:b → f:b, clean',
    base: { f: file('a', { mtime: 1000n }) },
    local: { f: file('a', { mtime: 5000n }) },
    server: { f: file('b', { mtime: 3000n }) },
    want: { tree: { f: file('b', { mtime: 5000n }) } },
  },
  {
    name: 'L→t | L→u | L→v → L→v, variant L→u',
    base: { L: link('t') },
    local: { L: link('u') },
    server: { L: link('v') },
    want: { tree: { L: link('v') }, conflicts: ['edit/edit L'], variants: { L: link('u') } },
  },
  {
    name: 'f:a | dir f/{x} | f:b → f:b at f, local directory kept as variant',
    base: { f: 'a' },
    local: { f: { x: 'x' } },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, conflicts: ['type f'], variants: { f: { x: 'x' } } },
  },
  {
    name: 'D/{a,b} | ∅ | D/{a,b,n} → D/{n}, record on D',
    base: { D: { a: 'a', b: 'b' } },
    local: {},
    server: { D: { a: 'a', b: 'b', n: 'n' } },
    want: { tree: { D: { n: 'n' } }, conflicts: ['directory-delete D (info)'] },
  },
  {
    name: '∅ | x/y/z/f | x/y/g → x/y/{z/f, g}, clean',
    base: {},
    local: { x: { y: { z: { f: 'f' } } } },
    server: { x: { y: { g: 'g' } } },
    want: { tree: { x: { y: { z: { f: 'f' }, g: 'g' } } } },
  },
  {
    name: 'f:a | rename f→g | — → rename on the server, no data sent',
    base: { f: 'a', keep: 'k' },
    local: { g: 'a', keep: 'k' },
    server: { f: 'a', keep: 'k' },
    opts: { localRenames: [{ from: 'f', to: 'g' }] },
    want: { tree: { g: 'a', keep: 'k' }, ops: ['rename server f -> g'] },
  },
  {
    name: 'f:a | rename f→g | rename f→h → both g and h kept, record (informational)',
    base: { f: 'a', keep: 'k' },
    local: { g: 'a', keep: 'k' },
    server: { h: 'a', keep: 'k' },
    opts: { localRenames: [{ from: 'f', to: 'g' }], serverRenames: [{ from: 'f', to: 'h' }] },
    want: { tree: { g: 'a', h: 'a', keep: 'k' }, conflicts: ['rename/rename f (info)'] },
  },
];
runCases(test, 'example', cases);

test('example: tree | — | root empty → abort, nothing deleted', (t) => {
  const err = t.throws(() =>
    scenario({ f: 'a', d: dir({ x: 'x' }) }, { f: 'a', d: { x: 'x' } }, {}),
  );
  t.true(isTetherError(err, 'EREMOTEGONE'));
  t.regex(err.message, /server root is empty/);
  t.regex(err.message, /nothing will be deleted/);
});

// Fields merge independently (rule F): modes, owners and each xattr key; a metadata-only
// conflict keeps the server value at the path and the local one in the record, no sibling.
import test from 'ava';
import { dir, file, runCases, scenario, type Case } from './helpers.js';

const cases: Case[] = [
  {
    name: 'chmod locally + edit on the server merge cleanly',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o755 }) },
    server: { f: file('b', { mode: 0o644 }) },
    want: { tree: { f: file('b', { mode: 0o755 }) } },
  },
  {
    name: 'edit locally + chmod on the server merge cleanly',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('b', { mode: 0o644 }) },
    server: { f: file('a', { mode: 0o755 }) },
    want: { tree: { f: file('b', { mode: 0o755 }) } },
  },
  {
    name: 'chmod locally only → setmeta on the server, no data',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o600 }) },
    server: { f: file('a', { mode: 0o644 }) },
    want: { tree: { f: file('a', { mode: 0o600 }) }, ops: ['setmeta server f mode'] },
  },
  {
    name: 'mode conflict: server 600 kept, local 755 in the record',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o755 }) },
    server: { f: file('a', { mode: 0o600 }) },
    want: { tree: { f: file('a', { mode: 0o600 }) }, conflicts: ['metadata f'] },
  },
  {
    name: 'mode conflict mirrored: server 755 kept',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o600 }) },
    server: { f: file('a', { mode: 0o755 }) },
    want: { tree: { f: file('a', { mode: 0o755 }) }, conflicts: ['metadata f'] },
  },
  {
    name: 'mode conflict with an edit on the server: content travels, mode conflicts',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o700 }) },
    server: { f: file('b', { mode: 0o600 }) },
    want: { tree: { f: file('b', { mode: 0o600 }) }, conflicts: ['metadata f'] },
  },
  {
    name: 'the same chmod on both sides is clean',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('a', { mode: 0o600 }) },
    server: { f: file('a', { mode: 0o600 }) },
    want: { tree: { f: file('a', { mode: 0o600 }) }, ops: [] },
  },
  {
    name: 'different xattr keys on each side merge',
    base: { f: 'a' },
    local: { f: file('a', { xattrs: { 'user.a': '1' } }) },
    server: { f: file('a', { xattrs: { 'user.b': '2' } }) },
    want: { tree: { f: file('a', { xattrs: { 'user.a': '1', 'user.b': '2' } }) } },
  },
  {
    name: 'one xattr key set differently on both sides: server value kept, record',
    base: { f: file('a', { xattrs: { 'user.k': '0' } }) },
    local: { f: file('a', { xattrs: { 'user.k': '1' } }) },
    server: { f: file('a', { xattrs: { 'user.k': '2' } }) },
    want: { tree: { f: file('a', { xattrs: { 'user.k': '2' } }) }, conflicts: ['metadata f'] },
  },
  {
    name: 'xattr removed locally, untouched on the server → removed there',
    base: { f: file('a', { xattrs: { 'user.k': '0' } }) },
    local: { f: 'a' },
    server: { f: file('a', { xattrs: { 'user.k': '0' } }) },
    want: { tree: { f: 'a' }, ops: ['setmeta server f xattrs'] },
  },
  {
    name: 'owner changed on the server + mode changed locally merge',
    base: { f: file('a') },
    local: { f: file('a', { mode: 0o600 }) },
    server: { f: file('a', { uid: 7 }) },
    want: { tree: { f: file('a', { mode: 0o600, uid: 7 }) } },
  },
  {
    name: 'directory mode changed locally, file added inside on the server',
    base: { d: dir({ x: 'x' }, { mode: 0o755 }) },
    local: { d: dir({ x: 'x' }, { mode: 0o700 }) },
    server: { d: dir({ x: 'x', n: 'n' }, { mode: 0o755 }) },
    want: {
      tree: { d: dir({ x: 'x', n: 'n' }, { mode: 0o700 }) },
      ops: ['put local d/n', 'setmeta server d mode'],
    },
  },
  {
    name: 'directory mode conflict: server kept, record, no sibling',
    base: { d: dir({ x: 'x' }, { mode: 0o755 }) },
    local: { d: dir({ x: 'x' }, { mode: 0o700 }) },
    server: { d: dir({ x: 'x' }, { mode: 0o750 }) },
    want: { tree: { d: dir({ x: 'x' }, { mode: 0o750 }) }, conflicts: ['metadata d'] },
  },
  {
    name: 'edit/edit with a local chmod: the variant keeps the local mode',
    base: { f: file('a', { mode: 0o644 }) },
    local: { f: file('b', { mode: 0o755 }) },
    server: { f: file('c', { mode: 0o644 }) },
    want: {
      tree: { f: file('c', { mode: 0o644 }) },
      conflicts: ['edit/edit f'],
      variants: { f: file('b', { mode: 0o755 }) },
    },
  },
];
runCases(test, 'metadata', cases);

test('metadata: the record holds both values', (t) => {
  const sc = scenario(
    { f: file('a', { mode: 0o644 }) },
    { f: file('a', { mode: 0o755 }) },
    { f: file('a', { mode: 0o600 }) },
  );
  const [c] = sc.plan.conflicts;
  t.deepEqual(c?.fields, ['mode']);
  t.is(c?.local?.mode, 0o755);
  t.is(c?.server?.mode, 0o600);
  t.is(c?.base?.mode, 0o644);
  t.is(c?.variantPath, undefined);
  t.false(sc.plan.clean);
});

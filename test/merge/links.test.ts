// Rule H: a put of a name that its source side has in one hard-link group with another name
// becomes a link to that name on the target, where the target holds the same bytes there (an
// untouched name, or one an earlier action of the plan puts); never over different bytes.
// A side that shows no groups (sshfs) keeps the target's own group where the plan puts every
// name of it from what looks like one file, marked for apply to compare the bytes first.
import test from 'ava';
import type { Action, LinkTo } from '../../src/merge/plan.js';
import { decodePlan, encodePlan } from '../../src/sync/plan-log.js';
import { display } from '../../src/tree/index.js';
import { file, NOW, scenario, type Opts, type Spec } from './helpers.js';

const LATER = 1_800_000_000_000_000_000n;
const g = (content: string, key: string, o: Opts = {}) => file(content, { ...o, linkKey: key });

interface LinkCase {
  readonly name: string;
  readonly base: Spec;
  readonly local: Spec;
  readonly server: Spec;
  readonly opts?: Parameters<typeof scenario>[3];
  /** Each put, as "side path" → the name it links to ('' for a copy). */
  readonly want: Readonly<Record<string, string>>;
  /** Puts whose link apply must check byte for byte. */
  readonly verify?: readonly string[];
}

const puts = (actions: readonly Action[]): Map<string, LinkTo | undefined> =>
  new Map(
    actions.flatMap((a) =>
      a.op === 'put' ? [[`${a.side} ${display(a.path)}`, a.link] as const] : [],
    ),
  );

const cases: LinkCase[] = [
  {
    name: 'ln a b locally → b is made on the server as a link to its a',
    base: { a: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { a: 'x' },
    want: { 'server b': 'a' },
  },
  {
    name: 'the new name sorts first (it is the key): linked to the old name',
    base: { b: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { b: 'x' },
    want: { 'server a': 'b' },
  },
  {
    name: 'a group new on the server → the first name copied, the others linked to it',
    base: {},
    local: {},
    server: { a: g('x', 'a'), d: { c: g('x', 'a') }, e: g('x', 'a') },
    want: { 'local a': '', 'local d/c': 'a', 'local e': 'a' },
  },
  {
    name: 'a group rewritten in place on the server → pulled as one file again',
    base: { a: 'x', b: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { a: g('y', 'a'), b: g('y', 'a') },
    want: { 'local a': '', 'local b': 'a' },
  },
  {
    name: 'the other name holds other bytes on the target (a conflict there) → copied',
    base: { a: 'x' },
    local: { a: g('y', 'a'), b: g('y', 'a') },
    server: { a: 'z' },
    want: { 'server b': '', 'local a': '' },
  },
  {
    name: 'the other name changed on the target only → copied, the group splits',
    base: { a: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { a: 'z' },
    want: { 'server b': '', 'local a': '' },
  },
  {
    name: 'the target knows its file by a stamp base does not vouch for → linked, bytes compared',
    base: { a: file('x', { stampOnly: true }) },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { a: file('x', { stampOnly: true }) },
    want: { 'server b': 'a' },
    verify: ['server b'],
  },
  {
    name: 'the other name is put by the same plan → the link waits for it and follows it',
    base: { a: 'w' },
    local: { a: g('x', 'a', { mtime: LATER }), b: g('x', 'a', { mtime: LATER }) },
    server: { a: file('w', { stampOnly: true }) },
    want: { 'server a': '', 'server b': 'a' },
  },
  {
    name: 'a key on two files of different bytes (a stale record) → no link',
    base: {},
    local: { a: g('x', 'a'), b: g('y', 'a') },
    server: {},
    want: { 'server a': '', 'server b': '' },
  },
  {
    name: 'the server shows no groups: the local group is kept where both are put from one stamp',
    base: { a: 'x', b: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { a: file('yy', { stampOnly: true }), b: file('yy', { stampOnly: true }) },
    opts: { linksSeen: { local: true, server: false } },
    want: { 'local a': '', 'local b': 'a' },
    verify: ['local b'],
  },
  {
    name: 'the server shows its groups and has two files: the local group splits',
    base: { a: 'x', b: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: { a: file('yy', { stampOnly: true }), b: file('yy', { stampOnly: true }) },
    want: { 'local a': '', 'local b': '' },
  },
  {
    name: 'no groups: two files put from different stamps stay two',
    base: { a: 'x', b: 'x' },
    local: { a: g('x', 'a'), b: g('x', 'a') },
    server: {
      a: file('yy', { stampOnly: true }),
      b: file('yy', { stampOnly: true, mtime: 1_800_000_000_000_000_000n }),
    },
    opts: { linksSeen: { local: true, server: false } },
    want: { 'local a': '', 'local b': '' },
  },
];

for (const c of cases) {
  test(`rule H: ${c.name}`, (t) => {
    const s = scenario(c.base, c.local, c.server, c.opts);
    const got = puts(s.plan.actions);
    t.deepEqual([...got.keys()].sort(), Object.keys(c.want).sort(), 'the puts planned');
    for (const [at, to] of Object.entries(c.want)) {
      const link = got.get(at);
      t.is(link === undefined ? '' : display(link.to), to, at);
      t.is(link?.verify === true, c.verify?.includes(at) === true, `${at}: verify`);
    }
    // A link's name is made before it, or is one no action touches.
    s.plan.actions.forEach((a, i) => {
      if (a.op !== 'put' || a.link === undefined) return;
      const to = a.link.to;
      const at = s.plan.actions.findIndex((b) => b.side === a.side && b.path === to);
      t.true(at < i, `${display(a.path)}: ${display(to)} is made first or left alone`);
    });
    t.deepEqual(s.again().actions, [], 'idempotent');
  });
}

test('rule H: a put with its link survives the persisted plan', (t) => {
  const s = scenario(
    { a: 'x', b: 'x' },
    { a: g('x', 'a'), b: g('x', 'a') },
    {
      a: file('yy', { stampOnly: true }),
      b: file('yy', { stampOnly: true }),
    },
    { linksSeen: { local: true, server: false } },
  );
  const back = decodePlan(encodePlan(s.plan, NOW)).plan;
  t.deepEqual(back.actions, s.plan.actions);
  t.true(back.actions.some((a) => a.op === 'put' && a.link?.verify === true));
});

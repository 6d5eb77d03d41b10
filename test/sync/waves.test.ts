// Apply runs a plan in waves of actions on unrelated paths; within a wave actions run in
// parallel, so a wave must never hold two actions whose paths are equal, or one above the
// other — that is where the plan's order matters (mkdir before put inside, variant before put).
import test from 'ava';
import type { Action } from '../../src/merge/plan.js';
import { waves } from '../../src/sync/apply.js';
import type { Entry } from '../../src/tree/index.js';

const e: Entry = { name: 'x', kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtimeNs: 1n };
const put = (path: string): Action => ({
  op: 'put',
  side: 'server',
  path,
  expect: null,
  entry: e,
  from: 'local',
  fromPath: path,
});
const mkdir = (path: string): Action => ({
  op: 'mkdir',
  side: 'server',
  path,
  expect: null,
  entry: e,
});
const variant = (path: string, to: string): Action => ({
  op: 'variant',
  side: 'local',
  path,
  variantPath: to,
  entry: e,
});
const rename = (path: string, to: string): Action => ({
  op: 'rename',
  side: 'server',
  path,
  to,
  expect: e,
  entry: e,
});

const cases: { name: string; plan: Action[]; want: number[][] }[] = [
  {
    name: 'unrelated puts share one wave',
    plan: [put('a'), put('b'), put('c/d')],
    want: [[0, 1, 2]],
  },
  {
    name: 'a directory before what goes in it',
    plan: [mkdir('d'), put('d/f'), put('d/g')],
    want: [[0], [1, 2]],
  },
  {
    name: 'a variant, then the put at the same path',
    plan: [variant('f', 'f.conflict-local-x'), put('f'), put('g')],
    want: [[0], [1, 2]],
  },
  {
    name: 'a rename clashes at both ends',
    plan: [rename('a', 'b'), put('b'), put('c')],
    want: [[0], [1, 2]],
  },
  {
    name: 'a child before its parent is deleted',
    plan: [put('d/e/f'), put('d')],
    want: [[0], [1]],
  },
  {
    name: 'siblings with a shared prefix are unrelated',
    plan: [put('ab'), put('a'), put('a-b')],
    want: [[0, 1, 2]],
  },
];

for (const c of cases) {
  test(`waves: ${c.name}`, (t) => {
    t.deepEqual(waves(c.plan), c.want);
  });
}

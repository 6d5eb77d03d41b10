// Invariant 10: a missing or empty server root (an unmounted share looks like an empty
// directory) never produces deletions: merge throws EREMOTEGONE and plans nothing.
import test from 'ava';
import { isTetherError } from '../../src/errors.js';
import { merge } from '../../src/merge/merge.js';
import { EMPTY_TREE_ID } from '../../src/tree/index.js';
import { MemReader, NOW, ops, type Spec } from './helpers.js';

const tree: Spec = { a: 'a', d: { x: 'x', y: { z: 'z' } } };

test('guard: empty server root against a non-empty base → EREMOTEGONE, no plan', (t) => {
  const r = new MemReader();
  const base = r.build(tree);
  const err = t.throws(() => merge(r, base, base, EMPTY_TREE_ID, { now: NOW }));
  t.true(isTetherError(err, 'EREMOTEGONE'));
  t.regex(err.message, /server root is empty/);
  t.regex(err.message, /mounted/);
});

test('guard: it holds even when local changed things too', (t) => {
  const r = new MemReader();
  const err = t.throws(() =>
    merge(r, r.build(tree), r.build({ ...tree, a: 'b', n: 'n' }), EMPTY_TREE_ID, { now: NOW }),
  );
  t.true(isTetherError(err, 'EREMOTEGONE'));
});

test('guard: allowEmptyRoot lets a deliberate emptying through', (t) => {
  const r = new MemReader();
  const base = r.build(tree);
  const plan = merge(r, base, base, EMPTY_TREE_ID, { now: NOW, allowEmptyRoot: true });
  t.deepEqual(ops(plan), [
    'delete local a',
    'delete local d/x',
    'delete local d/y/z',
    'delete local d/y',
    'delete local d',
  ]);
});

test('guard: an empty base and an empty server are a first sync, not a vanished share', (t) => {
  const r = new MemReader();
  const plan = merge(r, EMPTY_TREE_ID, r.build(tree), EMPTY_TREE_ID, { now: NOW });
  t.true(plan.actions.every((a) => a.side === 'server' && a.op !== 'delete'));
  t.is(plan.actions.length, 5);
});

test('guard: an empty local root is the user’s own deletion and is merged', (t) => {
  const r = new MemReader();
  const base = r.build(tree);
  const plan = merge(r, base, EMPTY_TREE_ID, base, { now: NOW });
  t.is(plan.actions.filter((a) => a.op === 'delete' && a.side === 'server').length, 5);
});

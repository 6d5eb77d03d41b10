// The persisted plan over a real store: begin() writes the plan and drops an earlier plan's
// stale marks in one batch, and clearSync() forgets the plan and its marks inside the
// transaction that moves base, so a reopened store has either both (the run to finish) or
// neither (the run done).
import test from 'ava';
import { join } from 'node:path';
import type { Plan } from '../../src/merge/plan.js';
import { REF_BASE } from '../../src/store/kv.js';
import { Store } from '../../src/store/store.js';
import { PlanLog } from '../../src/sync/plan-log.js';
import { EMPTY_TREE_ID } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

const plan: Plan = {
  clean: true,
  actions: [],
  conflicts: [],
  baseUpdates: [],
  from: { base: EMPTY_TREE_ID, local: EMPTY_TREE_ID, server: EMPTY_TREE_ID },
};

test('the plan and its marks go in the transaction that moves base', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const dir = join(tmp.dir, 'store');
  let store = await Store.create(dir);
  let log = new PlanLog(store.db('plans'));
  const now = new Date(1_700_000_000_000);
  await log.begin(plan, now);
  log.mark(0, 'ok');
  log.mark(2, 'failed');
  await log.flush();
  t.deepEqual(log.pending(), { plan, now });
  t.deepEqual(log.statuses(3), ['ok', undefined, 'failed']);

  // A ref move whose transaction fails takes the plan's removal with it.
  await t.throwsAsync(
    store.setRefs({ [REF_BASE]: EMPTY_TREE_ID }, () => {
      log.clearSync();
      throw new Error('cut short');
    }),
    { message: 'cut short' },
  );
  t.deepEqual(log.pending(), { plan, now }, 'still there: the run is finished next time');
  t.deepEqual(log.statuses(3), ['ok', undefined, 'failed']);
  t.is(store.getRef(REF_BASE), undefined);

  await store.setRefs({ [REF_BASE]: EMPTY_TREE_ID }, () => {
    log.clearSync();
  });
  await store.close();
  store = await Store.open(dir);
  t.teardown(() => store.close());
  log = new PlanLog(store.db('plans'));
  t.is(store.getRef(REF_BASE), EMPTY_TREE_ID);
  t.is(log.pending(), undefined);
  t.deepEqual(log.statuses(3), [undefined, undefined, undefined]);
});

test('a plan begun over stale marks (no plan) starts with none', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = await Store.create(join(tmp.dir, 'store'));
  t.teardown(() => store.close());
  const log = new PlanLog(store.db('plans'));
  log.mark(1, 'ok');
  log.mark(3, 'failed');
  await log.flush();
  t.is(log.pending(), undefined);
  await log.begin(plan, new Date(0));
  t.deepEqual(log.statuses(4), [undefined, undefined, undefined, undefined]);
  t.deepEqual(log.pending()?.plan, plan);
});

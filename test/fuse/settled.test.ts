// A control request waits for the requests the kernel handed the session before it
// (lowlevel.ts settledBefore): calls are taken from the queue in order, so it waits until as
// many were taken as had been queued, then for the requests then being handled; never past
// its deadline, and not at all once the session has ended.
import test from 'ava';
import { settledBefore } from '../../src/fuse/lowlevel.js';

test('waits until every call queued before it is taken and handled', async (t) => {
  const counts: [number, number] = [5, 2];
  const order: string[] = [];
  let finish: () => void = () => undefined;
  const slow = new Promise<void>((r) => (finish = r)).then(() => {
    order.push('release handled');
  });
  const running = new Set<Promise<void>>();
  // The three calls still queued are taken over the next turns; the last starts a slow one.
  setImmediate(() => {
    counts[1] = 4;
    setImmediate(() => {
      counts[1] = 5;
      running.add(slow);
      setTimeout(finish, 50);
    });
  });
  // A call queued after the wait began does not hold it.
  setTimeout(() => (counts[0] = 9), 10);
  await settledBefore(() => counts, running, 2000);
  order.push('settled');
  t.deepEqual(order, ['release handled', 'settled']);
});

test('gives up at its deadline, and does not wait for an ended session', async (t) => {
  const stuck: [number, number] = [3, 1];
  const t0 = Date.now();
  await settledBefore(() => stuck, new Set(), 100);
  t.true(Date.now() - t0 >= 100 && Date.now() - t0 < 1000, 'waited about the deadline');
  const t1 = Date.now();
  await settledBefore(() => undefined, new Set([new Promise<void>(() => undefined)]), 5000);
  t.true(Date.now() - t1 < 100);
});

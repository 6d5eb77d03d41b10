// A control request waits until JavaScript has taken the calls the session thread queued
// before it (lowlevel.ts settledBefore): calls are taken in queue order, so it waits until as
// many were taken as had been queued; never for the requests' work, never past its deadline,
// and not at all once the session has ended.
import test from 'ava';
import { settledBefore } from '../../src/fuse/lowlevel.js';

test('waits until every call queued before it is taken, not for calls queued later', async (t) => {
  const counts: [number, number] = [5, 2];
  const order: string[] = [];
  // The three calls still queued are taken over the next turns of the event loop.
  setImmediate(() => {
    counts[1] = 4;
    setImmediate(() => {
      counts[1] = 5;
      order.push('release taken');
      // A call queued after the wait began does not hold it.
      counts[0] = 9;
    });
  });
  await settledBefore(() => counts, 2000);
  order.push('settled');
  t.deepEqual(order, ['release taken', 'settled']);
  t.is(counts[1], 5);
});

test('gives up at its deadline, and does not wait for an ended session', async (t) => {
  const stuck: [number, number] = [3, 1];
  const t0 = Date.now();
  await settledBefore(() => stuck, 100);
  t.true(Date.now() - t0 >= 100 && Date.now() - t0 < 1000, 'waited about the deadline');
  const t1 = Date.now();
  await settledBefore(() => undefined, 5000);
  t.true(Date.now() - t1 < 100);
});

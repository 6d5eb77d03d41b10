// The journal of local-view changes a local-variant view follows: what changed since a
// reader's number, and `all` where it cannot tell (another daemon, a reader too far behind).
import test from 'ava';
import { LocalFollower, LocalJournal } from '../../src/volume/local-journal.js';

test('a reader gets the paths changed since its number, each once', (t) => {
  const j = new LocalJournal();
  j.add('a');
  const at = j.now;
  j.add('b');
  j.add('a');
  j.add('d/e');
  t.deepEqual(j.since(j.epoch, at), { epoch: j.epoch, seq: 4, paths: ['b', 'a', 'd/e'] });
  t.deepEqual(j.since(j.epoch, 4).paths, []);
  t.deepEqual(j.since(j.epoch, 0).paths, ['b', 'a', 'd/e']);
});

test('another epoch, a number from the future or one older than what is kept: all', (t) => {
  const j = new LocalJournal();
  j.add('a');
  t.is(j.since('other', 1).paths, 'all');
  t.is(j.since(undefined, 0).paths, 'all');
  t.is(j.since(j.epoch, 5).paths, 'all');
  for (let i = 0; i < 10_001; i++) j.add(`f${String(i)}`);
  t.is(j.since(j.epoch, 1).paths, 'all');
  t.is(j.since(j.epoch, 2).paths.length, 10_000);
});

test('a follower sets its cursor first, then invalidates what changed, or everything', (t) => {
  const j = new LocalJournal();
  const seen: string[] = [];
  let all = 0;
  const f = new LocalFollower(
    (paths) => seen.push(...paths),
    () => all++,
  );
  j.add('before');
  t.is(f.apply(j.since(f.cursor.epoch, f.cursor.seq)), 0);
  t.deepEqual(seen, []);
  j.add('x');
  j.add('y/z');
  t.is(f.apply(j.since(f.cursor.epoch, f.cursor.seq)), 2);
  t.deepEqual(seen, ['x', 'y/z']);
  t.is(f.apply(j.since(f.cursor.epoch, f.cursor.seq)), 0);
  const restarted = new LocalJournal();
  restarted.add('q');
  t.is(f.apply(restarted.since(f.cursor.epoch, f.cursor.seq)), -1);
  t.is(all, 1);
  t.deepEqual(seen, ['x', 'y/z']);
});

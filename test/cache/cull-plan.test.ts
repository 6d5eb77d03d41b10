// The cache's accounting and culling decisions, without a mount: sizes as users write them,
// the running total and what counts against which limit, the least-recently-used plan with
// what must stay, and use times kept across a restart.
import test from 'ava';
import { MemoryKvDb } from '../../src/store/memory.js';
import { keepLimits, readLimits } from '../../src/volume/cache-limits.js';
import { automaticUse, CacheLedger, overBy, toFree } from '../../src/volume/cache-ledger.js';
import { planCull, type CachedFile } from '../../src/volume/cull-plan.js';
import { parseSize } from '../../src/volume/size-arg.js';
import { UseTimes } from '../../src/volume/use-times.js';

const SIZES: [string, number][] = [
  ['1048576', 1048576],
  ['500M', 500 * 2 ** 20],
  ['2G', 2 * 2 ** 30],
  ['1.5g', 1.5 * 2 ** 30],
  ['64k', 65536],
  ['10MiB', 10 * 2 ** 20],
  ['3 T', 3 * 2 ** 40],
];
for (const [text, bytes] of SIZES) {
  test(`size: ${text}`, (t) => {
    t.is(parseSize(text, '--cache-size'), bytes);
  });
}
for (const bad of ['', 'lots', '-5M', '0', '2X', 'M']) {
  test(`size: ${JSON.stringify(bad)} is refused, naming the option`, (t) => {
    const err = t.throws(() => parseSize(bad, '--cache-size'));
    t.regex(err.message, /--cache-size .* is not a size: .*500M or 2G/);
  });
}

test('limits: kept per volume, a new value replaces only itself', async (t) => {
  const db = new MemoryKvDb();
  t.deepEqual(readLimits(db), {});
  t.deepEqual(await keepLimits(db, { cacheSize: 100 }), { cacheSize: 100 });
  t.deepEqual(await keepLimits(db, {}), { cacheSize: 100 }, 'a mount without limits keeps them');
  t.deepEqual(await keepLimits(db, { pinCacheSize: 7 }), { cacheSize: 100, pinCacheSize: 7 });
  t.deepEqual(await keepLimits(db, { cacheSize: 50 }), { cacheSize: 50, pinCacheSize: 7 });
});

test('ledger: a running total moved by single files, and reset by a walk', (t) => {
  const l = new CacheLedger();
  l.reset(
    [
      ['a', 100, false],
      ['p', 40, true],
    ],
    1000,
  );
  t.deepEqual(l.totals, { total: 1140, pinned: 40 });
  l.set('a', 300, false); // written bigger
  l.set('b', 50, false); // fetched
  l.drop('p'); // evicted or unlinked
  l.drop('never');
  l.addStore(-200); // objects freed
  t.deepEqual(l.totals, { total: 1150, pinned: 0 });
  l.set('a', 0, false); // now a placeholder: takes nothing
  t.is(l.local, 50);
});

const TOTALS: [string, { total: number; pinned: number }, object, number, number][] = [
  // what, totals, limits, automatic use, bytes over
  ['no limit', { total: 500, pinned: 0 }, {}, 500, -Infinity],
  ['under', { total: 500, pinned: 0 }, { cacheSize: 600 }, 500, -100],
  [
    'pinned, no pin limit: counts against nothing',
    { total: 900, pinned: 400 },
    { cacheSize: 600 },
    500,
    -100,
  ],
  [
    'pinned within its limit',
    { total: 900, pinned: 400 },
    { cacheSize: 600, pinCacheSize: 400 },
    500,
    -100,
  ],
  [
    'pinned past its limit squeezes the rest',
    { total: 900, pinned: 400 },
    { cacheSize: 600, pinCacheSize: 100 },
    800,
    200,
  ],
];
for (const [what, totals, limits, auto, over] of TOTALS) {
  test(`limits: ${what}`, (t) => {
    t.is(automaticUse(totals, limits), auto);
    t.is(overBy(totals, limits), over);
  });
}

test('a cull aims under the limit with room to spare (90%)', (t) => {
  t.is(toFree({ total: 1100, pinned: 0 }, { cacheSize: 1000 }), 200);
  t.is(toFree({ total: 1000, pinned: 0 }, { cacheSize: 1000 }), 0, 'at the limit: nothing yet');
  t.is(toFree({ total: 5000, pinned: 0 }, {}), 0, 'no limit: never');
});

const f = (path: string, lastUse: number, keep?: CachedFile['keep']): CachedFile => ({
  path,
  frees: 100,
  lastUse,
  ...(keep === undefined ? {} : { keep }),
});

test('plan: least recently used first, only as many as needed', (t) => {
  const p = planCull([f('new', 30), f('old', 10), f('mid', 20), f('never', 0)], 150);
  t.deepEqual(
    p.evict.map((x) => x.path),
    ['never', 'old'],
  );
  t.is(p.frees, 200);
  t.is(p.short, 0);
});

test('plan: pinned, dirty, provisional, conflicts, open and recent files stay, and are counted', (t) => {
  const files = [
    f('pinned', 1, 'pinned'),
    f('dirty', 2, 'dirty'),
    f('made-here', 3, 'provisional'),
    f('variant', 4, 'conflict'),
    f('open', 5, 'open'),
    f('just-opened', 6, 'recent'),
    f('just-fetched', 8, 'unverified'),
    f('clean', 7),
  ];
  const p = planCull(files, 1000);
  t.deepEqual(
    p.evict.map((x) => x.path),
    ['clean'],
  );
  t.is(p.short, 900, 'the rest cannot be freed: the cache is full');
  t.deepEqual(p.kept, {
    pinned: 1,
    dirty: 1,
    provisional: 1,
    conflict: 1,
    open: 1,
    recent: 1,
    unverified: 1,
  });
  t.is(p.passing, 300, 'open, just used or just fetched: kept for a moment only');
});

test('plan: equal use times are taken in path order (the same plan each run)', (t) => {
  const p = planCull([f('b', 0), f('a', 0), f('c', 0)], 150);
  t.deepEqual(
    p.evict.map((x) => x.path),
    ['a', 'b'],
  );
});

test('use times: the newest in memory, written in batches, read back by a later mount', async (t) => {
  const db = new MemoryKvDb();
  let now = 1000;
  const u = new UseTimes(db, () => now);
  u.touch('a');
  now = 2000;
  u.touch('b');
  u.touch('a');
  t.is(u.lastUse('a'), 2000);
  t.is(u.lastUse('never'), 0);
  await u.flush();
  const later = new UseTimes(db, () => now);
  t.is(later.lastUse('a'), 2000);
  t.is(later.lastUse('b'), 2000);
  const long = 'd/'.repeat(800) + 'f'; // past a key's length: kept whole in the value
  u.touch(long);
  await u.flush();
  t.is(new UseTimes(db).lastUse(long), 2000);
});

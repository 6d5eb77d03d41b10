// The cache limit through real mounts: reading more than fits evicts the least recently used
// clean files (remote-only again, fetched again when opened), pinned files stay; offline, once
// only changes are left, a write is refused with ENOSPC (EDISCONFULL, a cache-full event) and
// nothing written is lost; the limit is kept with the volume. And gc on a mounted volume runs
// in its daemon: it frees orphans, keeps what is reachable, and a daemon killed with -9 in the
// middle of it leaves a store fsck accepts.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Store } from '../../src/store/store.js';
import { held } from '../store/held.js';
import { cannotMount, eventually, mounted, sh, tetherRun } from './harness.js';
import { events, limitedVolume, md5, md5In, remount, state, statusJson } from './cache-limit.js';

const skipped = cannotMount === undefined ? '' : ` — skipped: ${cannotMount}`;
const serial = cannotMount === undefined ? test.serial : test.serial.skip;

const KIB = 1024;
const FILE = 512 * KIB;

serial(`reading more than fits evicts the least recently used clean files${skipped}`, async (t) => {
  const content = new Map<string, Buffer>();
  const { v, limit } = await limitedVolume(
    t,
    (r) => {
      for (const n of ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'pinned']) {
        const b = randomBytes(FILE);
        content.set(n, b);
        writeFileSync(join(r, n), b);
      }
    },
    // Two fetched files fit (each takes its size in the view and again as a blob), not three.
    2.5 * 2 * FILE,
    async (v) => {
      t.is((await tetherRun(['pin', join(v.mnt, 'pinned')])).status, 0);
      const h = await tetherRun(['hoard', v.mnt, '--json'], 60_000);
      t.is(h.status, 0, h.stderr);
    },
  );
  const m = v.mnt;
  const s = await statusJson(m);
  t.is(s.cacheLimit.cacheSize, limit, 'the limit given at mount');
  t.regex((await tetherRun(['status', m])).stdout, /cache limit: [\d.]+ MiB of [\d.]+ MiB/);

  const read = async (n: string): Promise<void> => {
    const r = await sh(`md5sum < ${m}/${n}`);
    t.is(r.status, 0, r.stderr);
  };
  await read('f0');
  await read('f1');
  await read('f0'); // used again: f1 is now the least recently used
  await read('f2'); // over the limit
  t.true(await eventually(async () => (await state(`${m}/f1`)) === 'remote-only'), 'f1 evicted');
  t.is(await state(`${m}/f0`), 'cached', 'f0 was used after f1');
  t.is(await state(`${m}/f2`), 'cached');
  t.is(await state(`${m}/pinned`), 'cached', 'pinned: never evicted, though the oldest');

  for (const n of ['f3', 'f4', 'f5']) await read(n);
  const under = await eventually(async () => {
    const c = (await statusJson(m)).cacheLimit;
    return c.automatic <= limit;
  });
  if (!under) {
    t.log(JSON.stringify((await statusJson(m)).cacheLimit), limit);
    t.log(readFileSync(join(v.store, 'daemon.log'), 'utf8'));
    t.log((await tetherRun(['events', m])).stdout);
  }
  t.true(under, 'back under the limit');
  t.is(await state(`${m}/f5`), 'cached');
  t.is(await state(`${m}/f0`), 'remote-only');
  t.is(await state(`${m}/pinned`), 'cached');
  const e = await events(m);
  const pressure = e.filter((x) => x.type === 'cache-pressure');
  t.true(
    pressure.some((x) => Number(x['evicted']) > 0),
    JSON.stringify(pressure),
  );

  // Evicted files are fetched again, whole, when next opened (online).
  t.is(await md5In(`${m}/f1`), md5(content.get('f1') ?? Buffer.alloc(0)));
  t.is(await state(`${m}/f1`), 'cached');

  // Kept with the volume: a mount without the option keeps it.
  await tetherRun(['unmount', m], 60_000);
  await remount(t, v, []);
  t.is((await statusJson(m)).cacheLimit.cacheSize, limit);
  await tetherRun(['unmount', m], 60_000);
  const fsck = await tetherRun(['fsck', '--store', v.store], 60_000);
  t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
});

serial(
  `offline, a write with only changes left fails with ENOSPC, nothing lost${skipped}`,
  async (t) => {
    const { v } = await limitedVolume(
      t,
      (r) => {
        for (const n of ['c0', 'c1']) writeFileSync(join(r, n), randomBytes(FILE));
      },
      2.5 * 2 * FILE,
    );
    const m = v.mnt;
    t.is((await sh(`cat ${m}/c0 ${m}/c1 > /dev/null`)).status, 0);
    t.is((await tetherRun(['offline', m])).status, 0);
    // Changes (made here, never synced) until the cache refuses one: the clean files go first.
    const w = await sh(
      `for i in 1 2 3 4 5 6 7 8; do head -c ${FILE * 2} /dev/urandom > ${m}/d$i || exit $i; ` +
        `md5sum < ${m}/d$i > ${v.dir}/d$i.md5; done`,
    );
    t.true(w.status > 1 && w.status <= 8, `a write was refused (exit ${w.status}): ${w.stderr}`);
    t.regex(w.stderr, /No space left on device/);
    const refused = `d${w.status}`;
    const why = await tetherRun(['why', join(m, refused)]);
    t.regex(why.stdout, /EDISCONFULL/);
    t.true((await events(m)).some((e) => e.type === 'cache-full'));
    if ((await state(`${m}/c1`)) !== 'remote-only' || (await state(`${m}/c0`)) !== 'remote-only') {
      t.log(readFileSync(join(v.store, 'daemon.log'), 'utf8'));
      t.log((await tetherRun(['events', m])).stdout, w);
    }
    t.is(await state(`${m}/c0`), 'remote-only', 'clean content was evicted first');
    t.is(await state(`${m}/c1`), 'remote-only');
    for (let i = 1; i < w.status; i++) {
      const now = await sh(`md5sum < ${m}/d${i}`);
      t.is(now.stdout, readFileSync(join(v.dir, `d${i}.md5`), 'utf8'), `d${i} intact`);
    }
  },
);

interface GcJson {
  objects: number;
  reachable: number;
  freed: number;
  dryRun: boolean;
}

/** Orphans put straight into the store (as a killed snapshot take leaves them). */
async function addOrphans(store: string, n: number): Promise<Buffer[]> {
  const s = await Store.openOrCreate(store);
  const out: Buffer[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const b = randomBytes(i % 10 === 0 ? 100 * KIB : 200);
      await s.putBlob(b);
      out.push(b);
    }
  } finally {
    await s.close();
  }
  return out;
}

serial(`gc on a mounted volume runs in its daemon and frees an orphan${skipped}`, async (t) => {
  const kept = randomBytes(FILE);
  const v = await mounted(t, (r) => {
    writeFileSync(join(r, 'kept'), kept);
  });
  t.is((await sh(`cat ${v.mnt}/kept > /dev/null`)).status, 0);
  await v.unmount();
  const orphans = await addOrphans(v.store, 2);
  await remount(t, v, []);
  // The mount's first sync runs on its own: once it is done, nothing the gc keeps is dropped
  // by a ref moving afterwards (that would be garbage for the next gc, not a fault).
  const synced = await tetherRun(['sync', v.mnt], 60_000);
  t.is(synced.status, 0, synced.stderr);
  const dry = await tetherRun(['gc', '--dry-run', '--json', '--store', v.store]);
  t.is(dry.status, 0, dry.stderr);
  const d = JSON.parse(dry.stdout) as GcJson;
  t.true(d.dryRun && d.freed >= 2, dry.stdout);
  const real = await tetherRun(['gc', '--json', '--store', v.store]);
  t.is(real.status, 0, real.stderr);
  const r = JSON.parse(real.stdout) as GcJson;
  t.is(r.freed, d.freed);
  t.is(await md5In(`${v.mnt}/kept`), md5(kept));
  await tetherRun(['unmount', v.mnt], 60_000);
  t.deepEqual(await held(v.store, orphans), [false, false]);
  t.deepEqual(await held(v.store, [kept]), [true], "the fetched file's blob, which base names");
  const fsck = await tetherRun(['fsck', '--store', v.store], 60_000);
  t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
  t.notRegex(fsck.stdout, /unreferenced/);
});

serial(`a daemon killed with -9 during gc leaves a store that verifies${skipped}`, async (t) => {
  const kept = randomBytes(FILE);
  const v = await mounted(t, (r) => {
    writeFileSync(join(r, 'kept'), kept);
  });
  t.is((await sh(`cat ${v.mnt}/kept > /dev/null`)).status, 0);
  await v.unmount();
  let cut = 0;
  for (let round = 0; round < 3; round++) {
    await addOrphans(v.store, 3000);
    await remount(t, v, []);
    const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
    const log = join(v.store, 'daemon.log');
    const started = (): number => readFileSync(log, 'utf8').split('gc: started').length - 1;
    const before = started();
    const gc = tetherRun(['gc', '--json', '--store', v.store]);
    // Killed once the daemon says the sweep began, and a little later each round: in the middle.
    t.true(await eventually(() => started() > before, 30_000, 1));
    await new Promise((res) => setTimeout(res, round * 5));
    process.kill(pid, 'SIGKILL');
    const g = await gc;
    t.log(`round ${round}: gc ${g.status === 0 ? 'finished first' : 'cut short'}`);
    if (g.status !== 0) cut++;
    spawnSync('fusermount', ['-uz', v.mnt]);
    const fsck = await tetherRun(['fsck', '--store', v.store], 60_000);
    t.is(fsck.status, 0, `round ${round}: ${fsck.stdout}${fsck.stderr}`);
    t.deepEqual(await held(v.store, [kept]), [true]);
  }
  t.true(cut > 0, 'at least one gc was killed in the middle');
  await remount(t, v, []);
  t.is(await md5In(`${v.mnt}/kept`), md5(kept));
});

serial(`a file held open is never evicted, and is once closed${skipped}`, async (t) => {
  const { v } = await limitedVolume(
    t,
    (r) => {
      for (const n of ['held', 'g1', 'g2', 'g3']) writeFileSync(join(r, n), randomBytes(FILE));
    },
    1.5 * 2 * FILE,
  );
  const m = v.mnt;
  // Read, then held open (the least recently used file from then on) for a few seconds.
  const holder = sh(`exec 3< ${m}/held; cat <&3 > /dev/null; sleep 6`, 30_000);
  t.true(await eventually(async () => (await state(`${m}/held`)) === 'cached'));
  for (const n of ['g1', 'g2', 'g3']) t.is((await sh(`cat ${m}/${n} > /dev/null`)).status, 0);
  t.true(
    await eventually(async () => (await state(`${m}/g1`)) === 'remote-only'),
    'the cache is culled',
  );
  t.is(await state(`${m}/held`), 'cached', 'open: kept, though the least recently used');
  const pressure = (await events(m)).filter((e) => e.type === 'cache-pressure');
  t.true(pressure.length > 0);
  t.is((await holder).status, 0);
  t.true(
    await eventually(async () => (await state(`${m}/held`)) === 'remote-only', 15_000),
    'closed: evicted by a later cull',
  );
});

serial(`pinned content past --pin-cache-size squeezes the automatic cache${skipped}`, async (t) => {
  const { v, limit } = await limitedVolume(
    t,
    (r) => {
      for (const n of ['p0', 'p1', 'u0', 'u1']) writeFileSync(join(r, n), randomBytes(FILE));
    },
    // Room for two fetched files, were pinned content not past its own limit.
    2.5 * 2 * FILE,
    async (v) => {
      t.is((await tetherRun(['pin', join(v.mnt, 'p0'), join(v.mnt, 'p1')])).status, 0);
      t.is((await tetherRun(['hoard', v.mnt, '--json'], 60_000)).status, 0);
    },
    // Room for one pinned file (its bytes in the view and its blob): the other counts against
    // --cache-size, which then holds one fetched file, not two.
    ['--pin-cache-size', String(2 * FILE)],
  );
  const m = v.mnt;
  const s = (await statusJson(m)).cacheLimit;
  t.is(s.pinCacheSize, 2 * FILE);
  t.true(s.pinned >= 4 * FILE, JSON.stringify(s));
  const now = async (): Promise<string> =>
    `limit ${String(limit)}: ${JSON.stringify((await statusJson(m)).cacheLimit)}; u0 ` +
    `${await state(`${m}/u0`)}, u1 ${await state(`${m}/u1`)}; ` +
    JSON.stringify((await events(m)).filter((e) => e.type.startsWith('cache-')));
  for (const n of ['u0', 'u1']) {
    const r = await sh(`cat ${m}/${n} > /dev/null`);
    t.is(r.status, 0, `${n}: ${r.stderr} ${r.status === 0 ? '' : await now()}`);
  }
  const evicted = await eventually(async () => (await state(`${m}/u0`)) === 'remote-only');
  t.true(evicted, `u0 evicted (${await now()})`);
  t.is(await state(`${m}/u1`), 'cached', await now());
  t.is(await state(`${m}/p0`), 'cached');
  t.is(await state(`${m}/p1`), 'cached');
});

serial(
  `online, a fetch that would overfill a cache of pinned content is refused, and hoard stops at the pin limit${skipped}`,
  async (t) => {
    const { v, limit } = await limitedVolume(
      t,
      (r) => {
        for (const n of ['p0', 'p1', 'u0', 'q0', 'q1'])
          writeFileSync(join(r, n), randomBytes(FILE));
      },
      FILE,
      async (v) => {
        t.is((await tetherRun(['pin', join(v.mnt, 'p0'), join(v.mnt, 'p1')])).status, 0);
        t.is((await tetherRun(['hoard', v.mnt, '--json'], 60_000)).status, 0);
      },
      // Pinned content (two files, each in the view and as a blob) is three files past its own
      // limit: that excess fills the automatic cache, and nothing in it can be evicted.
      ['--pin-cache-size', String(FILE)],
    );
    const m = v.mnt;
    const before = (await statusJson(m)).cacheLimit;
    t.true(before.automatic > limit, JSON.stringify(before));

    // A read of a file never fetched: refused cleanly, not cached past the limit.
    const r = await sh(`cat ${m}/u0 > /dev/null`);
    t.not(r.status, 0, 'the read was refused');
    t.regex(r.stderr, /No space left on device/);
    t.regex((await tetherRun(['why', join(m, 'u0')])).stdout, /EDISCONFULL/);
    t.true((await events(m)).some((e) => e.type === 'cache-full'));
    t.is(await state(`${m}/u0`), 'remote-only');
    // The store's own records (events) may grow a little; a fetch would have added 2 × FILE.
    const after = (await statusJson(m)).cacheLimit.automatic;
    t.true(
      after < before.automatic + FILE / 4,
      `nothing was added (${before.automatic} → ${after})`,
    );
    // Pinned content is still read from the cache.
    t.is((await sh(`cat ${m}/p0 > /dev/null`)).status, 0);

    // Hoarding more pins: stopped, with the reason, at the pin limit; nothing fetched past it.
    t.is((await tetherRun(['pin', join(m, 'q0'), join(m, 'q1')])).status, 0);
    const h = await tetherRun(['hoard', m], 60_000);
    t.is(h.status, 1, h.stdout + h.stderr);
    t.regex(h.stdout, /stopped: .*pin/i);
    t.is(await state(`${m}/q0`), 'remote-only');
    t.is(await state(`${m}/q1`), 'remote-only');
  },
);

serial(`an idle volume is not walked; a sync that wrote is counted again${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      for (let i = 0; i < 20; i++) writeFileSync(join(r, `f${i}`), randomBytes(KIB));
    },
    { TETHER_CULL_MS: '200' },
    ['--cache-size', String(64 * 1024 * KIB)],
  );
  const walks = async (): Promise<number> => (await statusJson(v.mnt)).cacheLimit.walks ?? NaN;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await walks();
  await new Promise((r) => setTimeout(r, 3000));
  // Fifteen looks at the running total in those 3 s: none of them walked.
  t.is(await walks(), idle, 'no walk while nothing changed');
  t.is((await sh(`printf new > ${v.mnt}/new.txt`)).status, 0);
  t.true(
    await eventually(async () => (await walks()) > idle, 10_000),
    'the flush wrote the store: counted again',
  );
});

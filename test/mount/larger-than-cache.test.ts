// A file larger than the whole cache limit, through a real mount with a small --cache-size:
// online it reads whole (cat, cmp) and at random places (dd skip=), range by range, the cache
// never past its limit and pinned content never evicted for it; offline it reads the ranges
// that are cached and fails with ENODATA (EDISCONDATA in `tether why`) for the rest; once it is
// closed its ranges are clean content that a cull gives back like any other.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presentBytes } from '../../src/volume/ranges.js';
import { limitedVolume, state, statusJson } from './cache-limit.js';
import { rangesOf, sha } from './ranges-of.js';
import { cannotMount, eventually, sh, tetherRun } from './harness.js';

const skipped = cannotMount === undefined ? '' : ` — skipped: ${cannotMount}`;
const serial = cannotMount === undefined ? test.serial : test.serial.skip;

const MiB = 1 << 20;
const BIG = 24 * MiB;
/** Room above what the volume takes with nothing fetched. */
const ROOM = 4 * MiB;

serial(
  `a file larger than the cache reads whole online, its cached ranges offline${skipped}`,
  async (t) => {
    const big = randomBytes(BIG);
    const pinned = randomBytes(MiB);
    const { v, limit } = await limitedVolume(
      t,
      (r) => {
        writeFileSync(join(r, 'big.bin'), big);
        writeFileSync(join(r, 'pinned'), pinned);
        for (const n of ['s0', 's1', 's2']) writeFileSync(join(r, n), randomBytes(MiB));
      },
      ROOM,
      async (v) => {
        t.is((await tetherRun(['pin', join(v.mnt, 'pinned')])).status, 0);
        t.is((await tetherRun(['hoard', v.mnt], 60_000)).status, 0);
      },
    );
    const m = v.mnt;
    t.true(BIG > limit, `the file (${BIG} bytes) is larger than the limit (${limit})`);
    const local = join(v.store, 'local', 'big.bin');
    /** The cache within its limit, the big file within its share of it. */
    const withinLimit = async (what: string): Promise<void> => {
      const c = (await statusJson(m)).cacheLimit;
      t.true(c.automatic <= limit, `${what}: ${c.automatic} bytes of a ${limit}-byte limit`);
      const held = statSync(local).blocks * 512;
      t.true(held <= limit / 2 + MiB, `${what}: the big file holds ${held} bytes`);
    };

    // Read whole, twice over (cmp and cat), and compared with the server's bytes.
    const cmp = await sh(`cmp ${join(m, 'big.bin')} ${join(v.remote, 'big.bin')}`, 120_000);
    t.is(cmp.status, 0, cmp.stdout + cmp.stderr);
    await withinLimit('after cmp');
    const cat = await sh(`cat ${join(m, 'big.bin')} | sha256sum`, 120_000);
    t.is(cat.stdout.split(' ')[0], sha(big), cat.stderr);
    await withinLimit('after cat');

    // Random reads, each one MiB at an offset.
    for (const i of [17, 3, 22, 0, 9, 23]) {
      const out = join(v.dir, `mib-${String(i)}`);
      const dd = await sh(
        `dd if=${join(m, 'big.bin')} of=${out} bs=1M skip=${String(i)} count=1 status=none`,
      );
      t.is(dd.status, 0, dd.stderr);
      t.is(sha(readFileSync(out)), sha(big.subarray(i * MiB, (i + 1) * MiB)), `MiB ${String(i)}`);
    }
    await withinLimit('after the random reads');
    t.is(await state(join(m, 'big.bin')), 'partial');
    t.is(await state(join(m, 'pinned')), 'cached', 'pinned content is never evicted for it');

    // Offline: what is cached reads as the server's bytes, the rest fails with ENODATA.
    t.is((await tetherRun(['offline', m])).status, 0);
    const map = await rangesOf(v.store, 'big.bin');
    t.truthy(map, 'the ranges read are recorded');
    const present = presentBytes(map!);
    t.true(present > 0 && present < BIG, `${String(present)} bytes present`);
    let served = 0;
    let refused = 0;
    for (let i = 0; i < BIG / MiB; i++) {
      const [a, b] = [i * MiB, (i + 1) * MiB];
      const whole = map!.ranges.some(([s, e]) => s <= a && e >= b);
      const none = map!.ranges.every(([s, e]) => e <= a || s >= b);
      if (!whole && !none) continue;
      const out = join(v.dir, `off-${String(i)}`);
      const dd = await sh(
        `dd if=${join(m, 'big.bin')} of=${out} bs=1M skip=${String(i)} count=1 status=none`,
      );
      if (whole) {
        t.is(dd.status, 0, dd.stderr);
        t.is(sha(readFileSync(out)), sha(big.subarray(a, b)), `offline MiB ${String(i)}`);
        served++;
      } else {
        t.not(dd.status, 0, `MiB ${String(i)} is not cached, yet was read`);
        t.regex(dd.stderr, /No data available/);
        refused++;
      }
    }
    t.true(served > 0 && refused > 0, `${served} MiB served, ${refused} refused`);
    const why = await tetherRun(['why', join(m, 'big.bin')]);
    t.regex(why.stdout, /EDISCONDATA/);

    // Online again: closed, its ranges are clean content that other reads may take back.
    const on = await tetherRun(['online', m], 60_000);
    t.is(on.status, 0, on.stderr);
    for (const n of ['s0', 's1', 's2']) {
      const r = await sh(`cat ${join(m, n)} > /dev/null`);
      t.is(r.status, 0, r.stderr);
    }
    t.true(
      await eventually(async () => (await statusJson(m)).cacheLimit.automatic <= limit, 15_000),
      'back within the limit',
    );
    t.true(
      await eventually(async () => (await state(join(m, 'big.bin'))) === 'remote-only', 15_000),
      'the big file was the least recently used: its ranges were given back',
    );
    t.is(await state(join(m, 'pinned')), 'cached');
    const again = await sh(`cmp ${join(m, 'big.bin')} ${join(v.remote, 'big.bin')}`, 120_000);
    t.is(again.status, 0, again.stdout + again.stderr);
  },
);

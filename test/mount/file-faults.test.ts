// One file failing on the server is that file's failure, not the volume's (DESIGN decision 2):
// the remote is a real FUSE filesystem (a passthrough served by a child process) that fails
// every read of some files with EIO while it answers everything else. Reading such a file
// fails with EIO at once, with a `data-unavailable` event and `tether why` saying why, and the
// volume stays online and goes on serving other files. Once the server is dead (its process
// killed: every call fails), a read takes the volume offline as before. A chown the server
// fails for one file is judged by the same rule, and so is a flush that must fetch such a file.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountFixture, whyNoMount } from '../fuse/harness.js';
import { MIN_MS as RECONNECT_MS } from '../../src/volume/reconnect.js';
import { events } from './cache-limit.js';
import { cannotMount, eventually, modeDetail, mounted, sh, tetherRun } from './harness.js';

const cannot = cannotMount ?? whyNoMount();
const skipped = cannot === undefined ? '' : ` — skipped: ${cannot}`;
const serial = cannot === undefined ? test.serial : test.serial.skip;

serial(
  `a file the server fails alone gives EIO and keeps the volume online${skipped}`,
  async (t) => {
    const fx = await mountFixture('faulty');
    t.teardown(() => fx.unmount());
    writeFileSync(join(fx.root, 'good.txt'), 'good\n');
    writeFileSync(join(fx.root, 'eio-bad.txt'), 'unreadable on the server\n');
    writeFileSync(join(fx.root, 'later.txt'), 'read once the server is dead\n');
    const v = await mounted(t, () => undefined, { TETHER_PULL_MS: '600000' }, [], fx.dir);
    const m = v.mnt;

    const at = Date.now();
    const bad = await sh(`cat ${join(m, 'eio-bad.txt')}`);
    const ms = Date.now() - at;
    t.not(bad.status, 0, 'the read failed');
    t.regex(bad.stderr, /Input\/output error/);
    t.true(ms < 3000, `answered after ${ms} ms`);
    t.is(await modeDetail(m), 'online', 'one file failing is no outage');
    const why = await tetherRun(['why', join(m, 'eio-bad.txt')]);
    t.regex(why.stdout, /EREMOTE/);
    t.regex(why.stdout, /this file alone failed/);
    const e = await events(m);
    t.true(
      e.some((x) => x.type === 'data-unavailable' && x['path'] === 'eio-bad.txt'),
      JSON.stringify(e),
    );
    t.false(
      e.some((x) => x.type === 'mode'),
      'no mode change',
    );
    t.is((await sh(`cat ${join(m, 'good.txt')}`)).stdout, 'good\n');
    // Again: still the file's own failure.
    t.regex((await sh(`cat ${join(m, 'eio-bad.txt')}`)).stderr, /Input\/output error/);
    t.is(await modeDetail(m), 'online');

    // The server dead: every call fails, and that is an outage.
    fx.kill();
    const later = await sh(`cat ${join(m, 'later.txt')}`);
    t.not(later.status, 0);
    t.regex(later.stderr, /No data available/);
    t.true(await eventually(async () => (await modeDetail(m)) === 'offline:failure', 15_000));
    t.is((await sh(`cat ${join(m, 'good.txt')}`)).stdout, 'good\n', 'cached content still reads');
  },
);

serial(
  `a hoard whose batches meet files the server fails caches the others and reports those${skipped}`,
  async (t) => {
    const fx = await mountFixture('faulty');
    t.teardown(() => fx.unmount());
    mkdirSync(join(fx.root, 'set'));
    // Small files, fetched many per agent request: two of them fail on the server.
    for (let i = 0; i < 60; i++) writeFileSync(join(fx.root, 'set', `f${i}.txt`), `file ${i}\n`);
    writeFileSync(join(fx.root, 'set', 'eio-a.txt'), 'unreadable on the server\n');
    writeFileSync(join(fx.root, 'set', 'eio-b.txt'), 'unreadable on the server\n');
    const v = await mounted(t, () => undefined, { TETHER_PULL_MS: '600000' }, [], fx.dir);
    const m = v.mnt;
    t.is((await tetherRun(['pin', '--recursive', join(m, 'set')])).status, 0);

    const h = await tetherRun(['hoard', m, '--json'], 60_000);
    const got = JSON.parse(h.stdout) as { total: number; done: number; failed: number };
    t.like(got, { total: 62, done: 62, failed: 2 }, h.stdout);
    t.regex(h.stdout, /eio-[ab]\.txt.*this file alone failed/);
    t.is(await modeDetail(m), 'online', 'failed files are no outage');
    const e = await events(m);
    const unavailable = e.filter((x) => x.type === 'data-unavailable').map((x) => x['path']);
    t.deepEqual(unavailable.sort(), ['set/eio-a.txt', 'set/eio-b.txt']);

    // Only those two are left to fetch.
    const again = await tetherRun(['hoard', m, '--json'], 60_000);
    t.like(JSON.parse(again.stdout), { total: 2, failed: 2 });

    // The server dead: every other file reads from the cache.
    fx.kill();
    const all = Array.from({ length: 60 }, (_, i) => join(m, 'set', `f${i}.txt`)).join(' ');
    const read = await sh(`cat ${all}`, 10_000);
    t.is(read.status, 0, read.stderr);
    t.is(read.stdout, Array.from({ length: 60 }, (_, i) => `file ${i}\n`).join(''));
  },
);

serial(
  `a chown the server fails for one file gives EIO and keeps the volume online${skipped}`,
  async (t) => {
    const fx = await mountFixture('faulty');
    t.teardown(() => fx.unmount());
    writeFileSync(join(fx.root, 'good.txt'), 'good\n');
    writeFileSync(join(fx.root, 'eio-owned.txt'), 'its owner cannot be changed on the server\n');
    const v = await mounted(t, () => undefined, { TETHER_PULL_MS: '600000' }, [], fx.dir);
    const m = v.mnt;
    const ids = `${String(process.getuid?.())}:${String(process.getgid?.())}`;

    const at = Date.now();
    const bad = await sh(`chown ${ids} ${join(m, 'eio-owned.txt')}`);
    const ms = Date.now() - at;
    t.not(bad.status, 0, 'the chown failed');
    t.regex(bad.stderr, /Input\/output error/);
    t.true(ms < 3000, `answered after ${ms} ms`);
    t.is(await modeDetail(m), 'online', 'one file failing is no outage');
    const e = await events(m);
    t.false(
      e.some((x) => x.type === 'mode'),
      JSON.stringify(e),
    );
    const good = await sh(`chown ${ids} ${join(m, 'good.txt')}`);
    t.is(good.status, 0, good.stderr);
    t.is(await modeDetail(m), 'online');

    // The server dead: the chown's failure is the remote's, and the volume goes offline (the
    // chown is then made in the cache, as every offline change is). The kernel holds the root's
    // attributes and listing (the fixture answers OPENDIR ENOSYS: a listing is opened without
    // asking it), so a stat and a readdir of the root still succeed once the server is dead: the
    // volume must not take that for the server answering, at the chown or a reconnect's probe.
    const root = await sh(`ls ${fx.dir} >/dev/null && stat ${fx.dir} >/dev/null && stat ${fx.dir}`);
    t.is(root.status, 0, root.stderr);
    fx.kill();
    const later = await sh(`chown ${ids} ${join(m, 'good.txt')}`);
    t.is(later.status, 0, later.stderr);
    t.is(await modeDetail(m), 'offline:failure');
    await new Promise((resolve) => setTimeout(resolve, 2 * RECONNECT_MS));
    t.is(await modeDetail(m), 'offline:failure', 'still offline after a reconnect probe');
  },
);

serial(`a flush the server fails for one file keeps the volume online${skipped}`, async (t) => {
  const fx = await mountFixture('faulty');
  t.teardown(() => fx.unmount());
  writeFileSync(join(fx.root, 'good.txt'), 'good\n');
  writeFileSync(join(fx.root, 'eio-linked.txt'), 'unreadable on the server\n');
  const v = await mounted(t, () => undefined, { TETHER_PULL_MS: '500' }, [], fx.dir);
  const m = v.mnt;
  // A second name of a file never fetched: the flush must fetch its content first (a link is
  // uploaded as content), and the server fails that read while it answers everything else.
  const ln = await sh(`ln ${join(m, 'eio-linked.txt')} ${join(m, 'second.txt')}`);
  t.is(ln.status, 0, ln.stderr);
  t.true(
    await eventually(async () => (await events(m)).some((x) => x.type === 'sync-failed'), 15_000),
    'a flush met the file',
  );
  t.is(await modeDetail(m), 'online', 'one file failing is no outage');
  t.is((await sh(`cat ${join(m, 'good.txt')}`)).stdout, 'good\n');
  const e = await events(m);
  t.false(
    e.some((x) => x.type === 'mode'),
    JSON.stringify(e),
  );
});

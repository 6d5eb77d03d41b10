// Partial content over a real network filesystem (issue 16 item 3; DESIGN decision 5): the
// remote is an sshfs share of an sshd on loopback. A large file's fetch cut by the server
// hanging keeps the ranges it got: offline they read as the server's bytes and the rest fails
// with ENODATA (EDISCONDATA in `tether why`, with the range); once the server is back the next
// open fetches only what is missing, unless the server's file changed meanwhile (then it starts
// over). A daemon killed mid-fetch never leaves a hole's zeros to be read as content.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { presentBytes, type RangeMap } from '../../src/volume/ranges.js';
import { eventually, modeDetail, type Ran, sh, tetherRun } from './harness.js';
import { rangesOf, sha } from './ranges-of.js';
import { cannotSshfs, sshfsVolume, type SshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;

const MiB = 1 << 20;
const SIZE = 96 * MiB;
const ENV = { TETHER_PULL_MS: '600000', TETHER_IDLE_MS: '1500' };

/** Bytes of the placeholder in the store's local view that are on disk (not holes). */
const allocated = (v: SshfsVolume, name: string): number => {
  try {
    return statSync(join(v.store, 'local', name)).blocks * 512;
  } catch {
    return 0;
  }
};

/** `cat` of a file in the mount, the server hung once some MiB have arrived; its outcome. */
async function catHungMidFetch(t: ExecutionContext, v: SshfsVolume, name: string): Promise<Ran> {
  const reading = sh(`cat ${join(v.mnt, name)} > /dev/null`, 60_000);
  const midway = await eventually(() => allocated(v, name) >= 8 * MiB, 20_000);
  v.hang();
  t.true(midway, 'the fetch got under way');
  t.true(allocated(v, name) < SIZE, 'the server hung before the fetch was done');
  return await reading;
}

/** Mebibyte `i` of a file in the mount, read by dd in a child: its bytes or the error. */
async function block(v: SshfsVolume, name: string, i: number): Promise<Buffer | string> {
  const out = join(v.dir, `block-${String(i)}`);
  const r = await sh(
    `dd if=${join(v.mnt, name)} of=${out} bs=1M skip=${String(i)} count=1 status=none`,
    15_000,
  );
  return r.status === 0 ? readFileSync(out) : r.stderr;
}

const covered = (m: RangeMap, a: number, b: number): boolean =>
  m.ranges.some(([s, e]) => s <= a && e >= Math.min(b, m.size));
const untouched = (m: RangeMap, a: number, b: number): boolean =>
  m.ranges.every(([s, e]) => e <= a || s >= b);

async function stateOf(v: SshfsVolume, name: string): Promise<string> {
  const r = await sh(`getfattr -n user.tether.state --only-values ${join(v.mnt, name)}`);
  return r.status === 0 ? r.stdout : r.stderr;
}

function daemonLog(v: SshfsVolume): string {
  const p = join(v.store, 'daemon.log');
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

serial(
  `a fetch cut by a hung server keeps its ranges: read offline, the rest fetched later${skipped}`,
  async (t) => {
    const content = randomBytes(SIZE);
    const v = await sshfsVolume(
      t,
      (e) => {
        writeFileSync(join(e, 'big.bin'), content);
      },
      ENV,
    );
    const r = await catHungMidFetch(t, v, 'big.bin');
    t.not(r.status, 0, 'the read cannot finish');
    t.regex(r.stderr, /No data available/);
    t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'offline:failure', 15_000));

    const map = await rangesOf(v.store, 'big.bin');
    t.truthy(map, 'the fetched ranges are recorded');
    const present = presentBytes(map!);
    t.true(present > 0 && present < SIZE, `${String(present)} bytes present`);
    t.log(`present after the hang: ${String(present / MiB)} MiB of ${String(SIZE / MiB)}`);

    // Offline: every whole MiB present reads as the server's; every MiB missing fails.
    let served = 0;
    let refused = 0;
    let firstMissing = -1;
    for (let i = 0; i < SIZE / MiB; i++) {
      const [a, b] = [i * MiB, (i + 1) * MiB];
      if (covered(map!, a, b)) {
        const got = await block(v, 'big.bin', i);
        t.true(Buffer.isBuffer(got), `MiB ${String(i)} is present: ${String(got)}`);
        if (Buffer.isBuffer(got)) t.is(sha(got), sha(content.subarray(a, b)), `MiB ${String(i)}`);
        served++;
      } else if (untouched(map!, a, b) && (refused < 3 || firstMissing < 0)) {
        const got = await block(v, 'big.bin', i);
        t.false(Buffer.isBuffer(got), `MiB ${String(i)} is missing yet was read`);
        t.regex(String(got), /No data available/);
        if (firstMissing < 0) firstMissing = i;
        refused++;
      }
    }
    t.true(served > 0 && refused > 0, `${String(served)} MiB served, ${String(refused)} refused`);
    t.is(await stateOf(v, 'big.bin'), 'partial');
    await block(v, 'big.bin', firstMissing);
    const why = await tetherRun(['why', join(v.mnt, 'big.bin'), '--json']);
    const w = JSON.parse(why.stdout) as { name: string; message: string };
    t.is(w.name, 'EDISCONDATA');
    t.regex(w.message, new RegExp(`bytes ${String(firstMissing * MiB)}–\\d+ of "big.bin"`));

    v.resume();
    t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'online', 45_000));
    const out = join(v.dir, 'whole');
    const again = await sh(`cat ${join(v.mnt, 'big.bin')} > ${out}`, 60_000);
    t.is(again.status, 0, again.stderr);
    t.is(sha(readFileSync(out)), sha(content));
    t.regex(
      daemonLog(v),
      new RegExp(`fetched "big.bin": ${String(SIZE - present)} bytes, ${String(present)} present`),
      'only the missing ranges were fetched',
    );
    t.is(await rangesOf(v.store, 'big.bin'), undefined, 'a complete file has no range map');
    t.is(await stateOf(v, 'big.bin'), 'cached');
  },
);

serial(`a server file changed between fetches is fetched anew${skipped}`, async (t) => {
  const content = randomBytes(SIZE);
  const v = await sshfsVolume(
    t,
    (e) => {
      writeFileSync(join(e, 'big.bin'), content);
    },
    ENV,
  );
  const r = await catHungMidFetch(t, v, 'big.bin');
  t.not(r.status, 0);
  t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'offline:failure', 15_000));
  const before = await rangesOf(v.store, 'big.bin');
  t.true(before !== undefined && presentBytes(before) > 0);
  v.resume();
  t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'online', 45_000));
  // Changed after the reconnect's sync: only the fetch itself can notice.
  const changed = randomBytes(SIZE);
  writeFileSync(join(v.exported, 'big.bin'), changed);
  const out = join(v.dir, 'whole');
  const again = await sh(`cat ${join(v.mnt, 'big.bin')} > ${out}`, 60_000);
  t.is(again.status, 0, again.stderr);
  t.is(sha(readFileSync(out)), sha(changed), "the server's new content, none of the old");
  t.regex(daemonLog(v), /fetched "big.bin": \d+ bytes, 0 present already \(started over/);
});

serial(`kill -9 mid-fetch: a hole is never read as content${skipped}`, async (t) => {
  const content = randomBytes(SIZE);
  const v = await sshfsVolume(
    t,
    (e) => {
      writeFileSync(join(e, 'big.bin'), content);
    },
    ENV,
  );
  const reading = sh(`cat ${join(v.mnt, 'big.bin')} > /dev/null`, 60_000);
  t.true(await eventually(() => allocated(v, 'big.bin') >= 8 * MiB, 20_000));
  const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  t.true(allocated(v, 'big.bin') < SIZE, 'killed before the fetch was done');
  await eventually(() => !existsSync(`/proc/${String(pid)}`));
  await reading;
  spawnSync('fusermount', ['-uz', v.mnt]);
  // Whatever the killed daemon's agent still had in hand, give it time to finish.
  await new Promise((res) => setTimeout(res, 1000));
  const m = await tetherRun(['mount', v.share, v.mnt, '--store', v.store], 60_000, {
    ...process.env,
    ...ENV,
  });
  t.is(m.status, 0, m.stderr);
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  let served = 0;
  let refused = 0;
  for (let i = 0; i < SIZE / MiB; i++) {
    const got = await block(v, 'big.bin', i);
    if (Buffer.isBuffer(got)) {
      t.is(sha(got), sha(content.subarray(i * MiB, (i + 1) * MiB)), `MiB ${String(i)}`);
      served++;
    } else {
      t.regex(got, /No data available/, `MiB ${String(i)}`);
      refused++;
    }
  }
  t.log(`after kill -9: ${String(served)} MiB served, ${String(refused)} refused`);
  t.true(served > 0 && refused > 0, `${String(served)} served, ${String(refused)} refused`);
  const on = await tetherRun(['online', v.mnt], 60_000);
  t.is(on.status, 0, on.stderr);
  const out = join(v.dir, 'whole');
  t.is((await sh(`cat ${join(v.mnt, 'big.bin')} > ${out}`, 60_000)).status, 0);
  t.is(sha(readFileSync(out)), sha(content));
});

// Authentication trouble on a real share (issue 16 item 7): the sshfs share is mounted as an
// ordinary user, and the server's permissions are taken from that user under the volume. A
// root or most directories refusing the user is no outage and no deletion: the volume waits
// in auth-required (status and event), keeps its local changes, plans nothing from the
// refused listings, and syncs by itself once access returns. One refusing directory among
// readable ones stays that path's problem: the rest syncs.
import test from 'ava';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, modeDetail, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;
const NOBODY = { name: 'nobody', uid: 65534, gid: 65534 };
const FAST = { TETHER_PULL_MS: '500' };

async function eventTypes(mnt: string): Promise<string[]> {
  const r = await tetherRun(['events', mnt, '--json'], 15_000);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { type: string }).type);
}

const read = (p: string): string => readFileSync(p, 'utf8');
/** Files made here belong to the share's user, as a user's own files would. */
const asNobody = (paths: string): string => `chown ${NOBODY.uid}:${NOBODY.gid} ${paths}`;

serial(
  `the remote root refuses the user at "tether online": auth-required, nothing lost, synced once access returns${skipped}`,
  async (t) => {
    const v = await sshfsVolume(
      t,
      (e) => {
        writeFileSync(join(e, 'a.txt'), 'a\n');
        writeFileSync(join(e, 'keep.txt'), 'keep\n');
        mkdirSync(join(e, 'd'));
        writeFileSync(join(e, 'd', 'b.txt'), 'b\n');
      },
      FAST,
      NOBODY,
    );
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/d/b.txt`)).stdout, 'a\nb\n');
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    const w = await sh(
      `printf 'edited offline\\n' > ${v.mnt}/a.txt && printf new > ${v.mnt}/new.txt && ` +
        asNobody(`${v.mnt}/new.txt`),
    );
    t.is(w.status, 0, w.stderr);

    chmodSync(v.exported, 0o000);
    const on = await tetherRun(['online', v.mnt], 30_000);
    t.not(on.status, 0);
    t.regex(on.stderr, /refused this user/);
    t.regex(on.stderr, /auth-required/);
    t.is(await modeDetail(v.mnt), 'auth-required');
    t.true((await eventTypes(v.mnt)).includes('auth-required'));
    // Nothing planned from the refusal: the server as it was, the local edits kept.
    chmodSync(v.exported, 0o755);
    t.is(read(join(v.exported, 'a.txt')), 'a\n');
    t.is(read(join(v.exported, 'keep.txt')), 'keep\n');
    t.false(existsSync(join(v.exported, 'new.txt')));
    chmodSync(v.exported, 0o000);
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/new.txt`)).stdout, 'edited offline\nnew');
    const st = await tetherRun(['status', v.mnt], 15_000);
    t.regex(st.stdout, /: auth-required /);

    // Access returns: the automatic probe (auto mode) syncs by itself.
    chmodSync(v.exported, 0o755);
    const synced = await eventually(() => existsSync(join(v.exported, 'new.txt')), 45_000);
    if (!synced) {
      t.log((await sh(`ls -la ${v.exported} ${v.mnt}; cat ${v.exported}/a.txt`)).stdout);
      t.log((await tetherRun(['events', v.mnt], 15_000)).stdout);
    }
    t.true(synced, 'synced once access returned');
    t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'online', 15_000));
    t.is(read(join(v.exported, 'a.txt')), 'edited offline\n');
    t.is(read(join(v.exported, 'keep.txt')), 'keep\n');
    t.is(read(join(v.exported, 'd', 'b.txt')), 'b\n');
    const conflicts = await tetherRun(['status', v.mnt, '--json'], 15_000);
    t.deepEqual((JSON.parse(conflicts.stdout) as { conflicts: unknown[] }).conflicts, []);
  },
);

serial(
  `most directories refuse the user while online: auth-required; one refusing directory stays its own problem${skipped}`,
  async (t) => {
    const dirs = ['d1', 'd2', 'd3', 'd4'];
    const v = await sshfsVolume(
      t,
      (e) => {
        for (const d of dirs) {
          mkdirSync(join(e, d));
          writeFileSync(join(e, d, 'f.txt'), `${d}\n`);
        }
      },
      FAST,
      NOBODY,
    );
    t.is((await sh(`cat ${v.mnt}/d1/f.txt`)).stdout, 'd1\n');
    // Three of the five directories (the root among them) refuse from now on.
    for (const d of ['d1', 'd2', 'd3']) chmodSync(join(v.exported, d), 0o000);
    t.is((await sh(`printf x > ${v.mnt}/d4/x.txt && ${asNobody(`${v.mnt}/d4/x.txt`)}`)).status, 0);
    t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'auth-required', 20_000));
    t.true((await eventTypes(v.mnt)).includes('auth-required'));
    await new Promise((r) => setTimeout(r, 1500));
    t.false(existsSync(join(v.exported, 'd4', 'x.txt')), 'nothing synced from refused listings');
    for (const d of dirs) t.is(read(join(v.exported, d, 'f.txt')), `${d}\n`);
    t.is((await sh(`cat ${v.mnt}/d4/x.txt; ls ${v.mnt}/d2`)).stdout, 'xf.txt\n');

    for (const d of ['d1', 'd2', 'd3']) chmodSync(join(v.exported, d), 0o755);
    t.true(
      await eventually(() => existsSync(join(v.exported, 'd4', 'x.txt')), 45_000),
      'synced once access returned',
    );
    t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'online', 15_000));

    // One directory among readable ones: the sync goes on around it.
    chmodSync(join(v.exported, 'd1'), 0o000);
    t.is((await sh(`printf y > ${v.mnt}/d4/y.txt && ${asNobody(`${v.mnt}/d4/y.txt`)}`)).status, 0);
    t.true(
      await eventually(() => existsSync(join(v.exported, 'd4', 'y.txt')), 20_000),
      'one refusing directory does not stop the sync',
    );
    t.is(await modeDetail(v.mnt), 'online');
    chmodSync(join(v.exported, 'd1'), 0o755);
    for (const d of dirs) t.is(read(join(v.exported, d, 'f.txt')), `${d}\n`);
    t.is((await sh(`cat ${v.mnt}/d1/f.txt`)).stdout, 'd1\n');
  },
);

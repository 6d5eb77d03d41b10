// The working set over a real sshfs share: pinned paths hoarded, then the server killed, and
// every pinned file still reads while the files left out fail with ENODATA; a recursive pin
// covers files created on the server later; a hoard run again after it finished has nothing
// left to fetch (resumable: what is fetched is no longer a placeholder).
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;

serial(`pinned files hoarded before an outage read during it${skipped}`, async (t) => {
  const v = await sshfsVolume(
    t,
    (e) => {
      mkdirSync(join(e, 'project', 'src'), { recursive: true });
      for (let i = 0; i < 40; i++)
        writeFileSync(join(e, 'project', 'src', `f${i}.txt`), `file ${i}\n`);
      writeFileSync(join(e, 'project', 'README'), 'readme\n');
      writeFileSync(join(e, 'notes.txt'), 'notes\n');
      writeFileSync(join(e, 'other.txt'), 'other\n');
    },
    { TETHER_PULL_MS: '500' },
  );
  t.is((await tetherRun(['pin', '--recursive', join(v.mnt, 'project')])).status, 0);
  t.is((await tetherRun(['pin', join(v.mnt, 'notes.txt'), '--priority', '5'])).status, 0);
  const pins = await tetherRun(['pins', v.mnt, '--json']);
  t.deepEqual(JSON.parse(pins.stdout), [
    { path: 'notes.txt', recursive: false, priority: 5 },
    { path: 'project', recursive: true, priority: 0 },
  ]);
  const h = await tetherRun(['hoard', v.mnt, '--json'], 60_000);
  t.is(h.status, 0, h.stderr);
  t.like(JSON.parse(h.stdout), { total: 42, done: 42, failed: 0 });

  // Created on the server after the pin: the next hoard covers it (recursive pin).
  writeFileSync(join(v.exported, 'project', 'later.txt'), 'later\n');
  t.true(
    await eventually(async () => (await sh(`ls ${v.mnt}/project`)).stdout.includes('later.txt')),
  );
  const again = await tetherRun(['hoard', v.mnt, '--json'], 60_000);
  t.like(JSON.parse(again.stdout), { total: 0, failed: 0 }, 'nothing left to fetch');

  v.kill();
  t.true(
    await eventually(async () => {
      const s = await tetherRun(['status', v.mnt, '--json'], 15_000);
      return s.status === 0 && (JSON.parse(s.stdout) as { mode: string }).mode === 'offline';
    }, 15_000),
  );
  const read = await sh(
    `cat ${v.mnt}/project/src/f0.txt ${v.mnt}/project/src/f39.txt ${v.mnt}/project/later.txt ${v.mnt}/notes.txt`,
    10_000,
  );
  t.is(read.status, 0, read.stderr);
  t.is(read.stdout, 'file 0\nfile 39\nlater\nnotes\n');
  const left = await sh(`cat ${v.mnt}/other.txt`, 10_000);
  t.regex(left.stderr, /No data available/);

  t.is((await tetherRun(['unpin', join(v.mnt, 'notes.txt')])).status, 0);
  const after = await tetherRun(['pins', v.mnt, '--json']);
  t.is((JSON.parse(after.stdout) as unknown[]).length, 1);
});

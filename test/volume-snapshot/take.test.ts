// `tether snapshot take NAME MOUNTPOINT`: the daemon snapshots what the mount shows, online and
// offline, reading only what changed since base, and a daemon killed with -9 loses nothing
// (the next one scans the whole view once). Checked through real mounts: the snapshot,
// written out by `snapshot restore`, equals the mount byte for byte and in its metadata.
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, eventually, mounted, sh, tetherRun, type Volume } from '../mount/harness.js';
import { fillRemote, sameBytes, sameListing, take } from './helpers.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
// No background compose either: these tests count which files a snapshot itself reads.
const QUIET = { TETHER_PULL_MS: '600000', TETHER_PRECOMPOSE_MS: '600000' };

async function restoreAndCompare(t: ExecutionContext, v: Volume, name: string): Promise<void> {
  const { dir, cleanup } = tempDir('snap-restore-');
  t.teardown(cleanup);
  const out = join(dir, 'out');
  const r = await tetherRun(['snapshot', 'restore', name, out, '--of', v.mnt]);
  t.is(r.status, 0, r.stdout + r.stderr);
  await sameListing(t, v.mnt, out);
  const d = await sameBytes(v.mnt, out);
  t.is(d.status, 0, d.stdout);
}

serial(`take online, then offline: each snapshot is what the mount shows${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  const edit = await sh(
    `cd ${v.mnt} && cat */*.txt b/c/*.txt *.txt > /dev/null && echo online > a/f1.txt && ` +
      `mkdir -p n/m && echo new > n/m/x && ln -s a/f1.txt ln && chmod 600 f0.txt && ` +
      `setfattr -n user.tag -v blue b/f2.txt && rm b/c/f3.txt`,
  );
  t.is(edit.status, 0, edit.stderr);
  const on = await take(t, 'on', v.mnt);
  t.is(on.mode, 'online');
  await restoreAndCompare(t, v, 'on');

  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  const off = await sh(
    `cd ${v.mnt} && echo offline >> a/f1.txt && mv n n2 && rm f4.txt && ` +
      `printf 'x%.0s' $(seq 1 3000) > big.txt && mkfifo p && touch -d 2001-01-01 b/f6.txt`,
  );
  t.is(off.status, 0, off.stderr);
  const snap = await take(t, 'off', v.mnt);
  t.is(snap.mode, 'offline');
  t.false(snap.scanned);
  await restoreAndCompare(t, v, 'off');
  const old = await tetherRun(['show', join(v.mnt, 'a/f1.txt'), '--snapshot', 'on']);
  t.is(old.stdout, 'online\n', 'the earlier snapshot keeps what it had');
  t.false(readFileSync(join(v.remote, 'a/f1.txt'), 'utf8').includes('offline'), 'offline: local');
});

serial(`only the files changed since base are read${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r, 200);
    },
    // No flush in between either: a flush's sync composes the view too, and would read the
    // changed files before the snapshot does (each is read once, by whichever comes first).
    { ...QUIET, TETHER_FLUSH_MS: '600000' },
  );
  t.is((await sh(`cd ${v.mnt} && cat */*.txt b/c/*.txt *.txt > /dev/null`)).status, 0);
  const first = await take(t, 's0', v.mnt);
  t.true(first.scanned, 'a first mount has no list to trust yet: one scan');
  t.is(first.files, 200);
  t.is(
    (await sh(`cd ${v.mnt} && echo x >> f0.txt && echo y >> a/f1.txt && echo z > b/f2.txt`)).status,
    0,
  );
  const s1 = await take(t, 's1', v.mnt);
  t.false(s1.scanned);
  t.is(s1.hashedFiles, 3, 'three files changed, three read');
  const s2 = await take(t, 's2', v.mnt);
  t.is(s2.hashedFiles, 0, 'nothing changed since: nothing read');
  const same = await tetherRun(['diff', 's1', 's2', v.mnt]);
  t.is(same.status, 0, same.stdout + same.stderr);
  t.is((await sh(`echo w >> ${v.mnt}/b/c/f3.txt`)).status, 0);
  const s3 = await take(t, 's3', v.mnt);
  t.is(s3.hashedFiles, 1);
  // A clean remount trusts the list it left.
  await v.unmount();
  const again = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store], 60_000, {
    ...process.env,
    ...QUIET,
  });
  t.is(again.status, 0, again.stderr);
  t.teardown(() => tetherRun(['unmount', v.mnt]).then(() => undefined));
  const s4 = await take(t, 's4', v.mnt);
  t.false(s4.scanned, 'a clean stop leaves a list the next daemon trusts');
  t.true(s4.hashedFiles <= 4, `read ${s4.hashedFiles}`);
  await restoreAndCompare(t, v, 's4');
});

serial(`kill -9 of the daemon: the next snapshot has every change${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  t.is((await sh(`cd ${v.mnt} && cat */*.txt b/c/*.txt *.txt > /dev/null`)).status, 0);
  await take(t, 'before', v.mnt);
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  const w = await sh(`cd ${v.mnt} && echo lost? > a/f5.txt && mkdir k && echo k > k/k.txt`);
  t.is(w.status, 0, w.stderr);
  const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  t.true(await eventually(() => !existsSync(`/proc/${pid}`)));
  const r = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store], 60_000, {
    ...process.env,
    ...QUIET,
  });
  t.is(r.status, 0, r.stderr); // unmounted at teardown by the harness, as the first mount
  const after = await take(t, 'after', v.mnt);
  t.true(after.scanned, 'the list of a killed daemon is not trusted');
  const shown = await tetherRun(['show', join(v.mnt, 'k/k.txt'), '--snapshot', 'after']);
  t.is(shown.stdout, 'k\n', shown.stderr);
  t.is(
    (await tetherRun(['show', join(v.mnt, 'a/f5.txt'), '--snapshot', 'after'])).stdout,
    'lost?\n',
  );
  t.is((await sh(`echo more >> ${v.mnt}/b/f6.txt`)).status, 0);
  const next = await take(t, 'next', v.mnt);
  t.false(next.scanned);
  t.is(next.hashedFiles, 1);
  await restoreAndCompare(t, v, 'next');
});

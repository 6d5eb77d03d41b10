// A snapshot taken after the background compose reuses the tree it made, unless something it
// was made from moved since: here a file still being written through a descriptor opened
// before the compose (no new note, only its stat tells).
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, eventually, mounted, sh, tetherRun } from '../mount/harness.js';
import { fillRemote, sameBytes, take } from './helpers.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const QUIET = { TETHER_PULL_MS: '600000' };

const composed = (store: string): number =>
  (
    readFileSync(join(store, 'daemon.log'), 'utf8').match(/composed the view in the background/g) ??
    []
  ).length;

serial(`a snapshot after the background compose reuses its tree${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r);
    },
    QUIET,
  );
  // Fetched, then one snapshot: its scan makes the changed-path list trusted (composed from).
  t.is((await sh(`find ${v.mnt} -type f -exec cat {} + > /dev/null`)).status, 0);
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  await take(t, 's0', v.mnt);
  t.is((await sh(`cd ${v.mnt} && echo one >> a/f1.txt && echo new > b/new.txt`)).status, 0);
  t.true(await eventually(() => composed(v.store) >= 1, 10_000), 'no background compose');
  const s = await take(t, 's', v.mnt);
  t.true((s as unknown as { reused?: boolean }).reused, JSON.stringify(s));
  t.is(s.hashedFiles, 0, JSON.stringify(s));
  const { dir, cleanup } = tempDir('snap-reuse-');
  t.teardown(cleanup);
  const out = join(dir, 'out');
  const r = await tetherRun(['snapshot', 'restore', 's', out, '--of', v.mnt]);
  t.is(r.status, 0, r.stderr);
  const d = await sameBytes(v.mnt, out);
  t.is(d.status, 0, d.stdout);
});

serial(
  `a file written on through a descriptor after the background compose is read again${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        fillRemote(r);
      },
      QUIET,
    );
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    await take(t, 's0', v.mnt);
    const f = join(v.mnt, 'open.txt');
    // Noted at the first write; the second, through the same descriptor, notes nothing.
    const writer = spawn(
      'sh',
      ['-c', `exec 3>>${f}; echo one >&3; sleep 2; echo two >&3; sleep 30`],
      { stdio: 'ignore' },
    );
    t.teardown(() => writer.kill('SIGKILL'));
    t.true(
      await eventually(() => composed(v.store) >= 1, 10_000),
      readFileSync(join(v.store, 'daemon.log'), 'utf8'),
    );
    t.true(
      await eventually(async () => (await sh(`cat ${f}`)).stdout === 'one\ntwo\n', 10_000),
      'the second write',
    );
    const s = await take(t, 's', v.mnt);
    t.falsy((s as unknown as { reused?: boolean }).reused, JSON.stringify(s));
    t.is((await tetherRun(['show', f, '--snapshot', 's'])).stdout, 'one\ntwo\n');
  },
);

// `tether mount --notify` (issue 16 item 6): the daemon tells the desktop, through whatever
// `notify-send` is on its PATH (here a script that records its arguments), of mode changes,
// data unavailable and conflicts; a burst of one kind becomes one notification and one
// summary. Without notify-send the daemon says once in its log that notifications are off.
import test from 'ava';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, eventually, mounted, sh, tetherRun } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

/** A notify-send that appends each call's arguments, one per line, and a separator. */
function fakeNotifySend(dir: string): { path: string; calls: () => string[][] } {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'notify.log');
  writeFileSync(
    join(bin, 'notify-send'),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> ${log}; done\necho --- >> ${log}\n`,
  );
  chmodSync(join(bin, 'notify-send'), 0o755);
  return {
    path: `${bin}:${process.env['PATH'] ?? ''}`,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('---\n')
            .filter((c) => c !== '')
            .map((c) => c.trimEnd().split('\n'))
        : [],
  };
}

serial(
  `--notify: mode changes, data unavailable (rate-limited) and conflicts${skipped}`,
  async (t) => {
    const { dir, cleanup } = tempDir('tether-notify-');
    t.teardown(cleanup);
    const fake = fakeNotifySend(dir);
    const v = await mounted(
      t,
      (r) => {
        writeFileSync(join(r, 'a.txt'), 'base\n');
        for (const n of ['u1', 'u2', 'u3']) writeFileSync(join(r, `${n}.txt`), 'never fetched\n');
      },
      { PATH: fake.path, TETHER_NOTIFY_GAP_MS: '2000' },
      ['--notify'],
    );
    t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'base\n');
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    t.true(await eventually(() => fake.calls().length === 1, 5000), JSON.stringify(fake.calls()));
    t.true(fake.calls()[0]?.includes(`${v.mnt} is offline`), JSON.stringify(fake.calls()));

    // Three files never fetched, read offline at once: one notification now, one summary later.
    const reads = await sh(`cat ${v.mnt}/u1.txt; cat ${v.mnt}/u2.txt; cat ${v.mnt}/u3.txt`);
    t.regex(reads.stderr, /No data available/);
    t.true(await eventually(() => fake.calls().length === 2, 5000), JSON.stringify(fake.calls()));
    t.true(await eventually(() => fake.calls().length === 3, 5000), JSON.stringify(fake.calls()));
    const [, now, summary] = fake.calls();
    t.true(now?.includes(`Not available offline in ${v.mnt}`), JSON.stringify(now));
    t.true(
      summary?.includes(`Not available offline in ${v.mnt} (and 1 more)`),
      JSON.stringify(summary),
    );
    t.true(
      summary?.some((l) => l.includes('u3.txt')),
      JSON.stringify(summary),
    );

    // Both sides change a.txt: going online finds a conflict.
    t.is((await sh(`printf 'here\\n' > ${v.mnt}/a.txt`)).status, 0);
    writeFileSync(join(v.remote, 'a.txt'), 'there\n');
    const on = await tetherRun(['online', v.mnt], 60_000);
    t.is(on.status, 3, on.stdout + on.stderr); // a conflict waits for a decision
    t.true(
      await eventually(() => fake.calls().some((c) => c.includes(`Conflict in ${v.mnt}`)), 5000),
      JSON.stringify(fake.calls()),
    );
    t.true(
      await eventually(() => fake.calls().some((c) => c.includes(`${v.mnt} is online`)), 5000),
    );
    t.true(fake.calls().every((c) => c[0] === '--app-name=tether'));
    t.regex(readFileSync(join(v.store, 'daemon.log'), 'utf8'), /notifications on/);
  },
);

serial(`--notify without notify-send: said once in the daemon log${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      writeFileSync(join(r, 'a.txt'), 'a\n');
    },
    { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    ['--notify'],
  );
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  t.is((await tetherRun(['online', v.mnt], 60_000)).status, 0);
  const log = readFileSync(join(v.store, 'daemon.log'), 'utf8');
  t.is(log.match(/notifications are off: notify-send is not installed/g)?.length, 1, log);
});

// Volume snapshots of files never fetched: `snapshot take --fetch` fetches them into the store
// first (so restore has every file), offline it refuses and says what to do, and restore of a
// snapshot without the content names the paths and how to get them.
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { cannotMount, mounted, tetherRun } from '../mount/harness.js';
import { fillRemote } from './helpers.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const QUIET = { TETHER_PULL_MS: '600000' };

serial(
  `take --fetch fetches what was never fetched, and restore has it all${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        fillRemote(r, 12);
      },
      QUIET,
    );
    const { dir, cleanup } = tempDir('snap-fetch-');
    t.teardown(cleanup);
    // Without --fetch: ids only, and restore names what is missing and how to get it.
    t.is((await tetherRun(['snapshot', 'take', 'cold', v.mnt])).status, 0);
    const cold = await tetherRun(['snapshot', 'restore', 'cold', join(dir, 'cold'), '--of', v.mnt]);
    t.is(cold.status, 1);
    t.regex(cold.stderr, /12 files of the snapshot have no content in the store/);
    t.regex(cold.stderr, /a\/f1\.txt, .*f0\.txt/);
    t.regex(
      cold.stderr,
      /known by size and time only .*tether snapshot take NAME MOUNTPOINT --fetch/,
    );
    t.false(existsSync(join(dir, 'cold')));

    const whole = await tetherRun(
      ['snapshot', 'take', 'whole', v.mnt, '--fetch', '--json'],
      120_000,
    );
    t.is(whole.status, 0, whole.stderr);
    const out = join(dir, 'whole');
    const r = await tetherRun(['snapshot', 'restore', 'whole', out, '--of', v.mnt]);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /12 files/);
    const round = await tetherRun(['diff', 'whole', out, v.mnt]);
    t.is(round.status, 0, round.stdout + round.stderr);
    // The earlier snapshot recorded them by stamp only: still refused, and it says why.
    const later = await tetherRun([
      'snapshot',
      'restore',
      'cold',
      join(dir, 'later'),
      '--of',
      v.mnt,
    ]);
    t.is(later.status, 1);
    t.regex(later.stderr, /known by size and time only .*--fetch/);
  },
);

serial(`take --fetch offline refuses and says what to do${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      fillRemote(r, 4);
    },
    QUIET,
  );
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  const r = await tetherRun(['snapshot', 'take', 'x', v.mnt, '--fetch']);
  t.is(r.status, 2, r.stdout + r.stderr);
  t.regex(r.stderr, /is offline: --fetch needs the server. Run "tether online/);
  const list = await tetherRun(['snapshot', 'list', '--of', v.mnt, '--json']);
  t.deepEqual(JSON.parse(list.stdout), [], 'no snapshot was taken');
  t.is((await tetherRun(['snapshot', 'take', 'x', v.mnt])).status, 0, 'without --fetch it is');
});

// The local variant kept by the kernel and still coherent: a write, a delete and a rename
// through the volume's mount show in the local view within the follow interval, in a view
// mounted on its own and in the volume's `.tether/variants/local`, after the kernel had
// cached the old names, attributes and pages. And repeated stats of it are the kernel's.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FOLLOW_MS } from '../../src/view/live.js';
import { cannotMount, eventually, mounted, sh } from '../mount/harness.js';
import { mountView, viewDirAt } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

/** What the view at `root` shows of the test's files, as one string. */
const seen = async (root: string): Promise<string> =>
  (
    await sh(
      `cd ${root} && ls -a && cat a.txt 2>&1; stat -c '%s' a.txt 2>&1; cat gone.txt 2>&1; ` +
        `cat old.txt 2>&1; cat new.txt 2>&1`,
    )
  ).stdout;

serial(
  `a write, a delete and a rename through the mount show in the local view within the follow interval${skipped}`,
  async (t) => {
    const v = await mounted(t, (r) => {
      writeFileSync(join(r, 'a.txt'), 'a\n');
      writeFileSync(join(r, 'gone.txt'), 'gone\n');
      writeFileSync(join(r, 'old.txt'), 'moved\n');
    });
    const view = await mountView(t, join(v.dir, 'local'), ['--variant', 'local', '--of', v.mnt]);
    t.is(view.mounted.status, 0, view.mounted.stderr);
    const roots = [view.mnt, `${v.mnt}/.tether/variants/local`];
    // Fetched, then seen through each view: the kernel caches names, attributes and pages.
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/gone.txt ${v.mnt}/old.txt`)).status, 0);
    const before = await seen(v.mnt);
    for (const r of roots) t.is(await seen(r), before, r);
    t.is(
      (await sh(`cd ${v.mnt} && echo changed, longer > a.txt && rm gone.txt && mv old.txt new.txt`))
        .status,
      0,
    );
    const after = await seen(v.mnt);
    t.not(after, before);
    t.regex(after, /changed, longer/);
    for (const r of roots) {
      const at = Date.now();
      const follows = await eventually(async () => (await seen(r)) === after, 10 * FOLLOW_MS, 20);
      t.true(follows, `${r}:\n${await seen(r)}\nwanted:\n${after}`);
      t.log(`${r}: the changes seen ${String(Date.now() - at)} ms after they were made`);
    }
  },
);

serial(`repeated stats of the local view are answered by the kernel${skipped}`, async (t) => {
  const v = await mounted(t, (r) => {
    writeFileSync(join(r, 'a.txt'), 'a\n');
  });
  const env = { ...process.env };
  process.env['TETHER_FUSE_TRACE'] = '1';
  const m = await mountView(t, join(v.dir, 'view-local'), ['--variant', 'local', '--of', v.mnt]);
  process.env = env;
  t.is(m.mounted.status, 0, m.mounted.stderr);
  const dir = viewDirAt(m.mnt);
  if (dir === undefined) return t.fail(`no view daemon at ${m.mnt}`);
  const stats = await sh(`for i in $(seq 200); do stat ${m.mnt}/a.txt >/dev/null || exit 1; done`);
  t.is(stats.status, 0, stats.stderr);
  t.is((await m.unmount()).status, 0);
  const log = readFileSync(join(dir, 'daemon.log'), 'utf8');
  t.regex(log, /requests: /);
  const count = (op: string): number => Number(new RegExp(`\\b${op} (\\d+)`).exec(log)?.[1] ?? 0);
  const asked = count('getattr') + count('lookup');
  t.true(asked < 10, `lookups and getattrs for 200 stats: ${String(asked)}`);
});

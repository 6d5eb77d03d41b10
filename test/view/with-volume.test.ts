// Views go away with their volume: `tether unmount` of a volume unmounts its variant and
// snapshot views and stops their daemons; a volume whose daemon died leaves views behind that
// the next `tether unmount` or `tether mount` of the volume cleans up.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, mounted, tetherRun, type Volume } from '../mount/harness.js';
import { fillRemote } from '../volume-snapshot/helpers.js';
import { mountView, viewPid } from './harness.js';
import { processAlive } from '../../src/store/store.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const QUIET = { TETHER_PULL_MS: '600000' };

const isMounted = (mnt: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `);

/** Running (a zombie waiting for init to reap it has stopped: see processAlive). */
function alive(pid: number | undefined): boolean {
  return pid !== undefined && pid > 0 && processAlive(pid);
}

/** A variant view and a snapshot view of the volume, mounted; their daemons' pids. */
async function twoViews(
  t: ExecutionContext,
  v: Volume,
): Promise<{ mnts: string[]; pids: number[] }> {
  const take = await tetherRun(['snapshot', 'take', 's1', v.mnt]);
  t.is(take.status, 0, take.stderr);
  const mnts = [join(v.dir, 'local-view'), join(v.dir, 'snap-view')];
  const a = await mountView(t, mnts[0]!, ['--variant', 'local', '--of', v.mnt]);
  t.is(a.mounted.status, 0, a.mounted.stderr);
  const b = await mountView(t, mnts[1]!, ['--snapshot', 's1', '--of', v.mnt]);
  t.is(b.mounted.status, 0, b.mounted.stderr);
  const pids = mnts.map((m) => viewPid(m) ?? 0);
  t.true(
    pids.every((p) => alive(p)),
    'both view daemons run',
  );
  return { mnts, pids };
}

/** Every view unmounted and its daemon stopped. */
function gone(t: ExecutionContext, views: { mnts: string[]; pids: number[] }): void {
  for (const m of views.mnts) t.false(isMounted(m), `${m} is unmounted`);
  for (const p of views.pids) t.false(alive(p), `view daemon ${String(p)} stopped`);
}

/** Kill the volume's daemon as a crash would; its mount stays behind. */
function killDaemon(v: Volume): void {
  process.kill(Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8').trim()), 'SIGKILL');
}

async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

serial(`unmounting a volume unmounts its views and stops their daemons${skipped}`, async (t) => {
  const v = await mounted(t, fillRemote, QUIET);
  const views = await twoViews(t, v);
  const r = await tetherRun(['unmount', v.mnt], 60_000);
  t.is(r.status, 0, r.stderr);
  t.false(isMounted(v.mnt));
  gone(t, views);
  t.regex(r.stderr, /unmounted the view at .*local-view/);
});

serial(`views left by a dead volume daemon go at the next unmount${skipped}`, async (t) => {
  const v = await mounted(t, fillRemote, QUIET);
  const views = await twoViews(t, v);
  const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8').trim());
  killDaemon(v);
  await settle(pid);
  t.true(views.mnts.every(isMounted), 'the views outlive the daemon');
  const r = await tetherRun(['unmount', v.mnt], 60_000);
  t.is(r.status, 0, r.stderr);
  gone(t, views);
});

serial(`views left by a dead volume daemon go at the next mount${skipped}`, async (t) => {
  const v = await mounted(t, fillRemote, QUIET);
  const views = await twoViews(t, v);
  const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8').trim());
  killDaemon(v);
  await settle(pid);
  const again = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store], 60_000, {
    ...process.env,
    ...QUIET,
  });
  t.is(again.status, 0, again.stderr);
  t.regex(again.stderr, /unmounting its views/);
  gone(t, views);
  t.is((await tetherRun(['unmount', v.mnt], 60_000)).status, 0);
});

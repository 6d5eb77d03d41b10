// The thin command line against a real mount: each command it runs itself answers what the
// full command line answers (TETHER_THIN=0), byte for byte and with the same exit status,
// without loading lmdb or any other native addon; where no daemon answers (its socket gone),
// or the command's own arguments are wrong, it leaves the command to the full one and the
// error is the full one's. Its unmount, of a volume with a view and of a view alone, returns
// once the daemons are gone, as the full one does.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../src/store/store-files.js';
import { fullRead, tetherLoading, type Loaded, type Run } from '../cli/run.js';
import { mountView, viewPid } from '../view/harness.js';
import { cannotMount, mounted, tetherRun } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

/**
 * What may differ between two runs a moment apart: a mount list in a message (what else is
 * mounted then), and the daemon's timings in a status ("walkMs").
 */
const steady = (text: string): string =>
  text
    .replace(/ \((none is mounted|mounted: [^)]*)\): [^\n]*/g, ' (mounts)')
    .replace(/"(\w+Ms)": \d+/g, '"$1": 0');

serial(`the thin command line answers a mount as the full one does${skipped}`, async (t) => {
  // No pull of the daemon's own between a thin run and the full one after it (a loaded
  // machine can stretch a pair past the pull interval three times in a row): what each
  // answers must then be the same.
  const v = await mounted(
    t,
    (r) => {
      writeFileSync(join(r, 'a.txt'), 'one\n');
      mkdirSync(join(r, 'd'));
      writeFileSync(join(r, 'd', 'b.txt'), 'bee\n');
    },
    { TETHER_PULL_MS: '3600000' },
  );
  const m = v.mnt;

  /**
   * The thin run of `argv`, checked against the full one's run right after it. The daemon's
   * own syncs may change the volume's state between the two: a pair that differs is run again
   * (three times at most), and the last pair must agree.
   */
  const thinAndFull = (argv: readonly string[]): { status: number; out: string } => {
    const what = argv.join(' ');
    for (let attempt = 1; ; attempt++) {
      const thin = tetherLoading(argv);
      const full = tetherLoading(argv, { TETHER_THIN: '0' });
      const a = [thin.status, steady(thin.stdout), steady(thin.stderr)];
      const b = [full.status, steady(full.stdout), steady(full.stderr)];
      if (attempt < 3 && JSON.stringify(a) !== JSON.stringify(b)) continue;
      t.deepEqual(a, b, what);
      t.deepEqual(thin.loaded.natives, [], `${what}: native addons loaded`);
      t.true(
        thin.loaded.modules.some((f) => f.endsWith('tether-thin.cjs')),
        `${what}: not the thin command line`,
      );
      t.false(fullRead(thin.loaded), `${what}: handed to the full command line`);
      t.true(fullRead(full.loaded));
      return { status: thin.status, out: thin.stdout };
    }
  };

  const s = thinAndFull(['status', m, '--json']);
  t.is(s.status, 0);
  t.like(JSON.parse(s.out), { mountpoint: m, mode: 'online' });
  thinAndFull(['status', '--json', join(m, 'd')]);
  t.regex(thinAndFull(['status', m]).out, /: online \(remote /);
  t.is(thinAndFull(['why', join(m, 'a.txt')]).out, `${join(m, 'a.txt')}: no failure recorded\n`);
  thinAndFull(['why', '--json', join(m, 'a.txt')]);
  thinAndFull(['pins', m, '--json']);
  t.regex(thinAndFull(['hoard', m]).out, /^.*: \d+ of \d+ files fetched, 0 failed$/m);
  thinAndFull(['hoard', '--json', join(m, 'd'), join(m, 'a.txt')]);
  // With stderr on a terminal the full command line draws a progress bar: it runs hoard there.
  if (spawnSync('script', ['--version']).error === undefined) {
    const onTerminal = tetherLoading(['hoard', m], {}, 60_000, true);
    t.is(onTerminal.status, 0, onTerminal.stdout);
    t.regex(onTerminal.stdout, /files fetched, 0 failed/);
    t.true(fullRead(onTerminal.loaded), 'hoard on a terminal: the full command line');
  } else t.log('hoard on a terminal not checked: script(1) is not installed');
  // Each pin and unpin runs thin, then full: the second finds what the first left.
  t.is(thinAndFull(['pin', join(m, 'd'), '-r', '--priority=2']).out, `pinned 1 path in ${m}\n`);
  thinAndFull(['pin', '--priority', '2', '--recursive', join(m, 'd')]);
  t.regex(thinAndFull(['pins', m]).out, /^d \(recursive\) priority 2$/m);
  thinAndFull(['unpin', join(m, 'd')]);
  t.is(thinAndFull(['mode', 'manual', m]).out, `${m}: online, reconnect manual\n`);
  thinAndFull(['mode', 'auto', m]);
  t.is(thinAndFull(['offline', m]).out, `${m}: offline\n`);
  // An error the daemon answers, reported by the thin command line itself (exit 2: a usage error).
  const offlineSync = tetherLoading(['sync', m]);
  t.is(offlineSync.status, 2);
  t.regex(offlineSync.stderr, /^tether: the volume is offline: run "tether online"/);
  t.false(fullRead(offlineSync.loaded));
  t.is(thinAndFull(['sync', m]).status, 2);
  thinAndFull(['events', m, '--json']);
  thinAndFull(['events', m]);
  // Online from offline, thin then full (each from offline, no change on either side).
  const thinOnline = tetherLoading(['online', m]);
  t.is(tetherLoading(['offline', m], { TETHER_THIN: '0' }).status, 0);
  const fullOnline = tetherLoading(['online', m], { TETHER_THIN: '0' });
  t.deepEqual(
    [thinOnline.status, thinOnline.stdout, thinOnline.stderr],
    [fullOnline.status, fullOnline.stdout, fullOnline.stderr],
  );
  t.is(thinOnline.stdout, `${m}: online (0 changes applied, 0 conflicts open)\n`);
  t.deepEqual(thinOnline.loaded.natives, []);
  t.false(fullRead(thinOnline.loaded));
  thinAndFull(['sync', m, '--dry-run', '--json']);
  t.regex(thinAndFull(['sync', m]).out, /^applied 0 of 0 actions; 0 conflicts open$/m);

  // Errors the command finds before asking: the full command line's words.
  for (const argv of [
    ['pin', join(m, 'd'), '--priority', '1.5'],
    ['mode', 'sometimes', m],
  ]) {
    const thin = tetherLoading(argv);
    const full = tetherLoading(argv, { TETHER_THIN: '0' });
    t.deepEqual([thin.status, thin.stdout, thin.stderr], [full.status, full.stdout, full.stderr]);
    t.is(thin.status, 2);
    t.true(fullRead(thin.loaded));
  }

  // No daemon behind the socket's path: left to the full command line, same error, exit 1.
  const sock = join(v.store, 'control.sock');
  renameSync(sock, sock + '.away');
  try {
    for (const argv of [
      ['status', m, '--json'],
      ['online', m],
      ['offline', m],
    ]) {
      const thin = tetherLoading(argv);
      const full = tetherLoading(argv, { TETHER_THIN: '0' });
      t.deepEqual([thin.status, thin.stdout, thin.stderr], [full.status, full.stdout, full.stderr]);
      t.is(thin.status, 1);
      t.regex(thin.stderr, /^tether: no daemon serves /);
      t.true(fullRead(thin.loaded));
    }
  } finally {
    renameSync(sock + '.away', sock);
  }
  t.is(tetherLoading(['status', m]).status, 0);
});

const isMounted = (mnt: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `);

serial(
  `tether unmount from the thin command line: the full one's answers, daemons gone${skipped}`,
  async (t) => {
    const v = await mounted(t, (r) => {
      writeFileSync(join(r, 'a.txt'), 'one\n');
    });
    const view = join(v.dir, 'view');
    const mountTheView = async (): Promise<number> => {
      const m = await mountView(t, view, ['--variant', 'local', '--of', v.mnt]);
      t.is(m.mounted.status, 0, m.mounted.stderr);
      return viewPid(view) ?? 0;
    };
    const mountVolume = async (): Promise<number> => {
      const r = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store]);
      t.is(r.status, 0, r.stderr);
      return Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
    };
    /** `tether unmount at` run thin (env {}) or full; every daemon in `pids` gone once it returns. */
    const unmountAt = (
      at: string,
      env: NodeJS.ProcessEnv,
      pids: readonly number[],
    ): Run & { loaded: Loaded } => {
      const r = tetherLoading(['unmount', at], env, 120_000);
      t.false(isMounted(at), `${at} unmounted`);
      for (const pid of pids) t.false(pid > 0 && processAlive(pid), `daemon ${String(pid)} gone`);
      return r;
    };
    const same = (thin: Run & { loaded: Loaded }, full: Run & { loaded: Loaded }): void => {
      t.deepEqual([thin.status, thin.stdout, thin.stderr], [full.status, full.stdout, full.stderr]);
      t.deepEqual(thin.loaded.natives, []);
      t.false(fullRead(thin.loaded), 'handed to the full command line');
      t.true(fullRead(full.loaded));
    };

    // A volume with a view: the view goes first, then the volume; both daemons are gone.
    let pids = [Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8')), await mountTheView()];
    const thinVolume = unmountAt(v.mnt, {}, pids);
    pids = [await mountVolume(), await mountTheView()];
    const fullVolume = unmountAt(v.mnt, { TETHER_THIN: '0' }, pids);
    same(thinVolume, fullVolume);
    t.is(thinVolume.status, 0);
    t.is(thinVolume.stdout, `unmounted ${v.mnt}\n`);
    t.is(thinVolume.stderr, `tether: unmounted the view at ${view}\n`);

    // A view alone, its volume left mounted.
    await mountVolume();
    const thinView = unmountAt(view, {}, [await mountTheView()]);
    const fullView = unmountAt(view, { TETHER_THIN: '0' }, [await mountTheView()]);
    same(thinView, fullView);
    t.is(thinView.stdout, `unmounted ${view}\n`);
    t.true(isMounted(v.mnt));

    // A view whose daemon died: detached, with a word on stderr, by either.
    const dead = async (): Promise<void> => {
      const pid = await mountTheView();
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && processAlive(pid); i++)
        await new Promise((r) => setTimeout(r, 50));
    };
    await dead();
    const thinDead = unmountAt(view, {}, []);
    await dead();
    const fullDead = unmountAt(view, { TETHER_THIN: '0' }, []);
    same(thinDead, fullDead);
    t.regex(thinDead.stderr, /^tether: no daemon serves .*; detaching the mount\n$/);
  },
);

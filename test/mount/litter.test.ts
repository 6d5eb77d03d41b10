// What a kill -9 leaves behind is cleaned up and never synced (issue 16 item 5): a cull's
// half-made placeholder (`.tether-tmp-cull-*`) in the local view, and a temp file of a write
// cut short (`.tether-tmp-*`, as the remote agent leaves one on the server, or in the view
// when the daemon lives on and only its agent was killed in the middle of a sync's apply: the
// plan left pending makes the next sync scan the view whole). The remount's
// sync removes them on both sides; the mount never lists them; the server never gets them
// as user files; the cached file the cull was evicting keeps its content.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cannotMount, eventually, mounted, sh, tetherRun } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

/** Deadlines a loaded machine meets: these tests are about litter, not about deadlines. */
const PATIENT = { TETHER_DEADLINE_MS: '10000' };

const litter = (names: readonly string[]): string[] =>
  names.filter((n) => n.startsWith('.tether-tmp-'));

/** Every name under `dir`, relative, directories followed. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? [prefix + d.name, ...walk(join(dir, d.name), `${prefix}${d.name}/`)]
      : [prefix + d.name],
  );
}

serial(
  `litter of a daemon killed with -9 is removed at the next mount, never synced${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        writeFileSync(join(r, 'a.txt'), 'a\n');
        mkdirSync(join(r, 'd'));
        writeFileSync(join(r, 'd', 'b.txt'), 'b\n');
      },
      { TETHER_PULL_MS: '600000', ...PATIENT },
    );
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/d/b.txt`)).stdout, 'a\nb\n');
    const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await eventually(() => !existsSync(`/proc/${pid}`));
    spawnSync('fusermount', ['-uz', v.mnt]);

    // As a kill leaves them: a cull's placeholder made beside the file it was to replace, a
    // half-written file in the view, and a half-uploaded one on the server.
    const local = join(v.store, 'local');
    writeFileSync(join(local, '.tether-tmp-cull-0123456789ab'), '');
    truncateSync(join(local, '.tether-tmp-cull-0123456789ab'), 2);
    writeFileSync(join(local, 'd', '.tether-tmp-cull-ba9876543210'), '');
    writeFileSync(join(local, 'd', '.tether-tmp-1x2y-abcdef'), 'half a local write');
    writeFileSync(join(v.remote, '.tether-tmp-9z-fedcba'), 'half an upload');
    writeFileSync(join(v.remote, 'd', '.tether-tmp-9z-012345'), 'half an upload');

    const r = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store], 60_000, {
      ...process.env,
      TETHER_PULL_MS: '600000',
      ...PATIENT,
    });
    t.is(r.status, 0, r.stderr);
    t.teardown(() => {
      spawnSync('fusermount', ['-uz', v.mnt]);
    });
    const ls = await sh(`ls -A ${v.mnt} ${v.mnt}/d`);
    t.deepEqual(litter(ls.stdout.split(/\s+/)), [], 'the mount never lists them');
    const s = await tetherRun(['sync', v.mnt, '--json'], 60_000);
    t.is(s.status, 0, s.stdout + s.stderr);
    t.deepEqual(
      litter(walk(local).map((p) => p.slice(p.lastIndexOf('/') + 1))),
      [],
      'view: cleaned',
    );
    t.deepEqual(
      walk(v.remote).sort(),
      ['a.txt', 'd', 'd/b.txt'],
      'server: cleaned, and nothing of it synced',
    );
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/d/b.txt`)).stdout, 'a\nb\n');
    const st = await tetherRun(['status', v.mnt, '--json']);
    t.notRegex(st.stdout, /tether-tmp/, 'no change or placeholder of a temp name');
    await tetherRun(['unmount', v.mnt], 60_000);
  },
);

/** The daemon's remote agents (its children started with the hidden `__agent` command). */
function agents(daemon: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .flatMap((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const argv = readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
        return ppid === daemon && argv.includes('__agent') ? [Number(n)] : [];
      } catch {
        return [];
      }
    });
}

serial(
  `an agent killed during a sync's apply: the litter in the view goes with the next sync${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        writeFileSync(join(r, 'a.txt'), 'a\n');
      },
      {
        TETHER_PULL_MS: '600000',
        ...PATIENT,
      },
    );
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    // A write big enough that its upload takes a while: the agent is killed in the middle.
    t.is((await sh(`head -c 200000000 /dev/zero > ${v.mnt}/big`, 60_000)).status, 0);
    const local = join(v.store, 'local');
    // As an agent killed in the middle of writing the view leaves one.
    writeFileSync(join(local, '.tether-tmp-7q-agentcut'), 'half a local write');
    const daemon = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
    t.is((await tetherRun(['mode', 'manual', v.mnt])).status, 0);
    const online = tetherRun(['online', v.mnt], 60_000);
    const uploading = await eventually(() => litter(readdirSync(v.remote)).length > 0, 30_000, 5);
    t.true(uploading, 'the upload began');
    for (const pid of agents(daemon)) process.kill(pid, 'SIGKILL');
    const o = await online;
    t.not(o.status, 0, 'the reconnect was cut short');
    // Tried again while a loaded machine makes the remote miss its deadline.
    let again = await tetherRun(['online', v.mnt], 60_000);
    for (let i = 0; i < 4 && again.status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      again = await tetherRun(['online', v.mnt], 60_000);
    }
    t.is(again.status, 0, again.stdout + again.stderr);
    t.deepEqual(litter(readdirSync(local)), [], 'view: cleaned');
    t.deepEqual(readdirSync(v.remote).sort(), ['a.txt', 'big'], 'server: cleaned');
  },
);

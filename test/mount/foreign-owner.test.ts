// A share that logs in as another user than the daemon's (sshfs as an ordinary user, NFS with
// root_squash): the server will not let root's files be given root's owner. Files made through
// the mount as root still reach the server, owned by the share's user, with no failed sync, no
// offline volume and no temporary file left on the server for the share's other users to see.
import test from 'ava';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { modeDetail, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;
const NOBODY = { name: 'nobody', uid: 65534, gid: 65534 };

const temps = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.tether-'));

serial(
  `a file made by root through a share logged in as another user reaches the server owned by that user${skipped}`,
  async (t) => {
    const v = await sshfsVolume(
      t,
      (e) => {
        writeFileSync(join(e, 'a.txt'), 'a\n');
      },
      {},
      NOBODY,
    );
    const w = await sh(
      `printf 'made by root\\n' > ${v.mnt}/new.txt && printf two > ${v.mnt}/two.txt && sync ${v.mnt}`,
    );
    t.is(w.status, 0, w.stderr);
    const s = await tetherRun(['sync', v.mnt], 30_000);
    t.is(s.status, 0, s.stderr);
    t.is(readFileSync(join(v.exported, 'new.txt'), 'utf8'), 'made by root\n');
    t.is(statSync(join(v.exported, 'new.txt')).uid, NOBODY.uid);
    t.is(readFileSync(join(v.exported, 'two.txt'), 'utf8'), 'two');
    t.deepEqual(temps(v.exported), []);
    t.is(await modeDetail(v.mnt), 'online');
    // Said once in the log, not per file.
    t.is(readFileSync(join(v.store, 'daemon.log'), 'utf8').split('refused to set').length, 2);
    // The owner the server gave is what the mount shows and base holds: no sync finds a change.
    t.is(statSync(join(v.mnt, 'new.txt')).uid, NOBODY.uid);
    const again = await tetherRun(['sync', v.mnt, '--dry-run', '--json'], 30_000);
    t.is(again.status, 0, again.stderr);
    t.deepEqual((JSON.parse(again.stdout) as { plan: { actions: unknown[] } }).plan.actions, []);
  },
);

serial(
  `a put the server refuses is reported by tether sync, kept in the mount, and tried again${skipped}`,
  async (t) => {
    const v = await sshfsVolume(
      t,
      (e) => {
        mkdirSync(join(e, 'locked'));
        writeFileSync(join(e, 'locked', 'old.txt'), 'old\n');
      },
      {},
      NOBODY,
    );
    // The share's user may not write in locked/ (root's, 0755); root may, through the mount.
    chownSync(join(v.exported, 'locked'), 0, 0);
    chmodSync(join(v.exported, 'locked'), 0o755);
    const w = await sh(`printf 'mine\\n' > ${v.mnt}/locked/new.txt`);
    t.is(w.status, 0, w.stderr);
    const s = await tetherRun(['sync', v.mnt], 30_000);
    t.is(s.status, 1, s.stdout + s.stderr);
    t.regex(s.stdout, /^failed: .*locked\/new\.txt.*tried again/m);
    // The server's chmod of locked/ may still be pulled by this sync (a setmeta, applied).
    const counts = /applied (\d+) of (\d+) actions, 1 failed; 0 conflicts open/.exec(s.stdout);
    t.truthy(counts, s.stdout);
    t.is(Number(counts?.[1]), Number(counts?.[2]) - 1, s.stdout);
    t.is(readFileSync(join(v.mnt, 'locked', 'new.txt'), 'utf8'), 'mine\n', 'kept in the mount');
    t.deepEqual(readdirSync(join(v.exported, 'locked')), ['old.txt']);
    // Once the server allows it, the next sync puts it.
    chmodSync(join(v.exported, 'locked'), 0o777);
    const again = await tetherRun(['sync', v.mnt], 30_000);
    t.is(again.status, 0, again.stdout + again.stderr);
    t.is(readFileSync(join(v.exported, 'locked', 'new.txt'), 'utf8'), 'mine\n');
  },
);

serial(
  `online, a chown the share refuses fails as on the share, and the owner stays the server's${skipped}`,
  async (t) => {
    const v = await sshfsVolume(
      t,
      (e) => {
        writeFileSync(join(e, 'a.txt'), 'a\n');
      },
      {},
      NOBODY,
    );
    const c = await sh(`chown 1234:1234 ${v.mnt}/a.txt`);
    t.not(c.status, 0, 'refused');
    t.regex(c.stderr, /Operation not permitted|Permission denied/);
    t.is(statSync(join(v.mnt, 'a.txt')).uid, NOBODY.uid);
    t.is(statSync(join(v.exported, 'a.txt')).uid, NOBODY.uid);
    const s = await tetherRun(['sync', v.mnt, '--dry-run', '--json'], 30_000);
    t.deepEqual((JSON.parse(s.stdout) as { plan: { actions: unknown[] } }).plan.actions, []);
  },
);

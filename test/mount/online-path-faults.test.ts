// `tether online` over a real share when one path fails (DESIGN decision 2: a path's failure
// is that path's, not the volume's). The sshfs share is logged in as an ordinary user, so the
// server's permissions refuse it some paths as a real server would; a file the server keeps
// writing changes under the copy as a real log would. Each case: the volume goes
// online all the same, the path's local change stays in the mount (nothing lost), `tether
// online` names the path and the reason and exits 1, `tether why PATH` says it too, and once
// the server allows it the next `tether sync` does what was left.
import test from 'ava';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modeDetail, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;
const NOBODY = { name: 'nobody', uid: 65534, gid: 65534 };
/** No pull or flush of its own during the test: only the commands it runs sync. */
const QUIET = { TETHER_PULL_MS: '600000' };

const read = (p: string): string => readFileSync(p, 'utf8');

/** A file written on the server as its user would have written it. */
function serverWrite(path: string, text: string): void {
  writeFileSync(path, text);
  chownSync(path, NOBODY.uid, NOBODY.gid);
}

serial(
  `a server file the user may not read: online all the same, the path reported and retried${skipped}`,
  async (t) => {
    const v = await sshfsVolume(
      t,
      (e) => {
        writeFileSync(join(e, 'a.txt'), 'a\n');
        writeFileSync(join(e, 'pulled.txt'), 'pulled v1\n');
        writeFileSync(join(e, 'both.txt'), 'both v1\n');
      },
      QUIET,
      NOBODY,
    );
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/pulled.txt ${v.mnt}/both.txt`)).status, 0);
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    const w = await sh(
      `printf 'a edited\\n' > ${v.mnt}/a.txt && printf 'both local\\n' > ${v.mnt}/both.txt`,
    );
    t.is(w.status, 0, w.stderr);
    // Meanwhile on the server: two files changed, then made unreadable to the share's user.
    // pulled.txt must be read to be copied here; both.txt changed on both sides, so it must
    // be read to be told apart from the local version.
    serverWrite(join(v.exported, 'pulled.txt'), 'pulled v2 (server)\n');
    serverWrite(join(v.exported, 'both.txt'), 'both server\n');
    chmodSync(join(v.exported, 'pulled.txt'), 0o000);
    chmodSync(join(v.exported, 'both.txt'), 0o000);

    const on = await tetherRun(['online', v.mnt], 60_000);
    t.is(on.status, 1, on.stdout + on.stderr);
    t.regex(on.stdout, /pulled\.txt.*(Permission denied|EACCES)/);
    t.regex(on.stdout, /both\.txt.*(Permission denied|EACCES)/);
    t.regex(on.stdout, /: online \(/);
    t.is(await modeDetail(v.mnt), 'online');
    // The rest synced; the refused paths as they were on each side.
    t.is(read(join(v.exported, 'a.txt')), 'a edited\n');
    t.is(read(join(v.mnt, 'both.txt')), 'both local\n', 'the local edit is kept');
    t.is(read(join(v.mnt, 'pulled.txt')), 'pulled v1\n');
    for (const f of ['pulled.txt', 'both.txt']) {
      const why = await tetherRun(['why', join(v.mnt, f)]);
      t.regex(why.stdout, /EREMOTE.*\n.*(Permission denied|EACCES)/, f);
    }

    // Readable again: the next sync takes the server's version and keeps both of both.txt.
    chmodSync(join(v.exported, 'pulled.txt'), 0o644);
    chmodSync(join(v.exported, 'both.txt'), 0o644);
    const again = await tetherRun(['sync', v.mnt], 60_000);
    t.not(again.status, 1, again.stdout + again.stderr);
    t.is(read(join(v.mnt, 'pulled.txt')), 'pulled v2 (server)\n');
    const conflicts = await tetherRun(['conflicts', v.mnt], 15_000);
    t.regex(conflicts.stdout + again.stdout, /both\.txt/);
  },
);

serial(
  `a server directory the user may not list: online all the same, the rest synced${skipped}`,
  async (t) => {
    const dirs = ['d1', 'd2', 'd3', 'd4'];
    const v = await sshfsVolume(
      t,
      (e) => {
        for (const d of dirs) {
          mkdirSync(join(e, d));
          writeFileSync(join(e, d, 'f.txt'), `${d}\n`);
        }
      },
      QUIET,
      NOBODY,
    );
    t.is((await sh(`cat ${v.mnt}/d1/f.txt ${v.mnt}/d4/f.txt`)).stdout, 'd1\nd4\n');
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    const w = await sh(
      `printf 'new in d1\\n' > ${v.mnt}/d1/x.txt && printf 'new in d4\\n' > ${v.mnt}/d4/y.txt && ` +
        `chown ${NOBODY.uid}:${NOBODY.gid} ${v.mnt}/d1/x.txt ${v.mnt}/d4/y.txt`,
    );
    t.is(w.status, 0, w.stderr);
    // One directory of five refuses the user: that path's problem, no auth trouble.
    chmodSync(join(v.exported, 'd1'), 0o000);

    const on = await tetherRun(['online', v.mnt], 60_000);
    t.is(on.status, 1, on.stdout + on.stderr);
    t.regex(on.stdout, /d1.*(Permission denied|EACCES)/);
    t.is(await modeDetail(v.mnt), 'online');
    t.is(read(join(v.exported, 'd4', 'y.txt')), 'new in d4\n');
    t.is(read(join(v.mnt, 'd1', 'x.txt')), 'new in d1\n', 'kept in the mount');
    const why = await tetherRun(['why', join(v.mnt, 'd1')]);
    t.regex(why.stdout, /EREMOTE.*\n.*(Permission denied|EACCES)/);

    chmodSync(join(v.exported, 'd1'), 0o755);
    const again = await tetherRun(['sync', v.mnt], 60_000);
    t.is(again.status, 0, again.stdout + again.stderr);
    t.is(read(join(v.exported, 'd1', 'x.txt')), 'new in d1\n');
    t.is(read(join(v.exported, 'd1', 'f.txt')), 'd1\n');
  },
);

serial(
  `a server file that changes while it is copied: online all the same, the path retried${skipped}`,
  async (t) => {
    const v = await sshfsVolume(
      t,
      (e) => {
        writeFileSync(join(e, 'a.txt'), 'a\n');
        writeFileSync(join(e, 'busy.log'), 'line 0\n');
      },
      QUIET,
      NOBODY,
    );
    t.is((await sh(`cat ${v.mnt}/a.txt ${v.mnt}/busy.log`)).status, 0);
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    t.is((await sh(`printf 'a edited\\n' > ${v.mnt}/a.txt`)).status, 0);
    // On the server, busy.log grows without a pause while the volume comes back: whatever
    // the sync reads of it is stale by the time it is written here.
    const log = join(v.exported, 'busy.log');
    serverWrite(log, 'line 0\nline 1\n');
    const server = { writing: true };
    const writer = (async () => {
      for (let i = 2; server.writing; i++) {
        await sh(`printf 'line ${String(i)}\\n' >> ${log}`);
      }
    })();
    t.teardown(async () => {
      server.writing = false;
      await writer;
    });

    const on = await tetherRun(['online', v.mnt], 60_000);
    server.writing = false;
    await writer;
    // Nearly always it changed under the copy (then said so, with the path, and exit 1); a
    // copy that slipped between two appends is a version the server had, and fine too.
    t.true(on.status === 0 || on.status === 1, on.stdout + on.stderr);
    if (on.status === 1) {
      t.regex(on.stdout, /^failed: .*busy\.log changed/m);
      t.regex((await tetherRun(['why', join(v.mnt, 'busy.log')])).stdout, /EREMOTE.*\n.*changed/);
    }
    t.is(await modeDetail(v.mnt), 'online');
    t.is(read(join(v.exported, 'a.txt')), 'a edited\n');
    // The local file is a version the server had, never a mix.
    const here = read(join(v.mnt, 'busy.log'));
    t.true(read(log).startsWith(here), here);

    // Quiet again: the next sync brings the last version.
    const again = await tetherRun(['sync', v.mnt], 60_000);
    t.is(again.status, 0, again.stdout + again.stderr);
    t.is(read(join(v.mnt, 'busy.log')), read(log));
  },
);

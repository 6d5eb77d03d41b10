// sync-dirs run as root onto a share logged in as an ordinary user: the server refuses to give
// files root's owner. The files are still written, owned by the share's user, with no failed
// run and no temporary file left on the share; the next run finds nothing to do.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';
import { PATIENT, sshfsArgs, startSshd, why } from './sshd.js';

const NOBODY = { name: 'nobody', uid: 65534, gid: 65534 };

(why === undefined ? test : test.skip)(
  why === undefined
    ? 'sync-dirs as root onto a share logged in as another user writes files with the owner the share gives'
    : `sync-dirs as root onto a share logged in as another user — skipped: ${why}`,
  async (t) => {
    const tmp = tempDir();
    const a = join(tmp.dir, 'A');
    const exported = join(tmp.dir, 'exported');
    const mnt = join(tmp.dir, 'mnt');
    const store = join(tmp.dir, 'store');
    chmodSync(tmp.dir, 0o755);
    const sshd = await startSshd(tmp.dir);
    let mounted = false;
    try {
      mkdirSync(a);
      writeFileSync(join(a, 'mine.txt'), 'made by root\n');
      mkdirSync(exported);
      writeFileSync(join(exported, 'theirs.txt'), 'on the server\n');
      spawnSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, exported]);
      mkdirSync(mnt);
      const m = spawnSync('sshfs', sshfsArgs(sshd, exported, mnt, { user: NOBODY.name }));
      t.is(m.status, 0, String(m.stderr));
      mounted = true;

      const first = tether(['sync-dirs', a, mnt, '--store', store, '--initial'], PATIENT);
      t.is(first.status, 0, first.stdout + first.stderr);
      t.is(readFileSync(join(exported, 'mine.txt'), 'utf8'), 'made by root\n');
      t.is(statSync(join(exported, 'mine.txt')).uid, NOBODY.uid);
      t.is(readFileSync(join(a, 'theirs.txt'), 'utf8'), 'on the server\n');
      t.deepEqual(
        readdirSync(exported).filter((n) => n.startsWith('.tether-')),
        [],
      );
      // The owner the share gave reaches the local side once; then there is nothing to do.
      tether(['sync-dirs', a, mnt, '--store', store], PATIENT);
      const idle = tether(['sync-dirs', a, mnt, '--store', store], PATIENT);
      t.regex(idle.stdout, /^0 applied, 0 conflicts/m, idle.stdout + idle.stderr);
    } finally {
      if (mounted) spawnSync('fusermount3', ['-uz', mnt]);
      sshd.proc.kill('SIGKILL');
      tmp.cleanup();
    }
  },
);

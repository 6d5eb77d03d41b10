// sync-dirs with the server replica on a real network filesystem: an sshd on loopback, the
// server directory mounted through sshfs (FUSE). sshfs keeps no stable inode numbers and
// whole-second mtimes (SFTP v3): the stamp-only server scan must cope with both, and an edit
// made on the server in the same second as the last sync must still be seen.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';
import { PATIENT, sshfsArgs, startSshd, why } from './sshd.js';

(why === undefined ? test : test.skip)(
  why === undefined
    ? 'sync-dirs against a server replica mounted over sshfs'
    : `sync-dirs against a server replica mounted over sshfs — skipped: ${why}`,
  async (t) => {
    const tmp = tempDir();
    const a = join(tmp.dir, 'A');
    const exported = join(tmp.dir, 'exported');
    const mnt = join(tmp.dir, 'mnt');
    const store = join(tmp.dir, 'store');
    const sshd = await startSshd(tmp.dir);
    let mounted = false;
    try {
      mkdirSync(join(a, 'docs'), { recursive: true });
      writeFileSync(join(a, 'docs', 'notes.txt'), 'one\ntwo\nthree\n');
      writeFileSync(join(a, 'README'), 'readme\n');
      mkdirSync(exported);
      writeFileSync(join(exported, 'on-server.txt'), 'from the server\n');
      mkdirSync(mnt);
      // Attribute caching off: a change made on the server by someone else must be visible
      // to the scan (with sshfs's default 20 s cache, no client could see it either).
      const m = spawnSync('sshfs', sshfsArgs(sshd, exported, mnt));
      t.is(m.status, 0, String(m.stderr));
      mounted = true;

      const first = tether(['sync-dirs', a, mnt, '--store', store, '--initial'], PATIENT);
      t.is(first.status, 0, first.stdout + first.stderr);
      t.deepEqual(readdirSync(exported).sort(), ['README', 'docs', 'on-server.txt']);
      t.is(readFileSync(join(a, 'on-server.txt'), 'utf8'), 'from the server\n');
      const idle = tether(['sync-dirs', a, mnt, '--store', store], PATIENT);
      t.regex(
        idle.stdout,
        /^0 applied, 0 conflicts/m,
        'stamps over sshfs are stable: nothing to do',
      );

      // Changes on both sides, one of them a conflict; the server's made behind the mount.
      writeFileSync(join(a, 'README'), 'readme, edited on the laptop\n');
      writeFileSync(join(exported, 'docs', 'notes.txt'), 'one\ntwo (server)\nthree\n');
      writeFileSync(join(a, 'docs', 'notes.txt'), 'one\ntwo (laptop)\nthree\n');
      writeFileSync(join(exported, 'new-on-server.txt'), 'new\n');
      const second = tether(['sync-dirs', a, mnt, '--store', store], PATIENT);
      t.is(second.status, 3, second.stdout + second.stderr);
      t.is(readFileSync(join(exported, 'README'), 'utf8'), 'readme, edited on the laptop\n');
      t.is(readFileSync(join(a, 'new-on-server.txt'), 'utf8'), 'new\n');
      t.is(readFileSync(join(a, 'docs', 'notes.txt'), 'utf8'), 'one\ntwo (server)\nthree\n');
      const variant = readdirSync(join(a, 'docs')).find((n) => n.includes('.conflict-local-'));
      t.is(readFileSync(join(a, 'docs', variant!), 'utf8'), 'one\ntwo (laptop)\nthree\n');
      t.false(readdirSync(join(exported, 'docs')).some((n) => n.includes('.conflict-')));

      const third = tether(['sync-dirs', a, mnt, '--store', store], PATIENT);
      t.regex(third.stdout, /^0 applied/m);

      // The share goes away: the mount point is an empty directory again.
      spawnSync('fusermount3', ['-u', mnt]);
      mounted = false;
      const gone = tether(['sync-dirs', a, mnt, '--store', store], PATIENT);
      t.is(gone.status, 1);
      t.regex(gone.stderr, /is empty: an unmounted share looks like this/);
      t.true(existsSync(join(a, 'README')), 'nothing deleted locally');
    } finally {
      if (mounted) spawnSync('fusermount3', ['-u', '-z', mnt]);
      sshd.proc.kill();
      tmp.cleanup();
    }
  },
);

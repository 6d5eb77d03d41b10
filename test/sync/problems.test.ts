// One path that cannot be read is a problem of that path, not of the run (as Unison and rsync
// report and carry on): unreadable files and directories on either side are left as they
// are, reported with what to do, the run ends with status 1 and base does not move for them;
// everything else syncs. --strict refuses the run instead. Run as an unprivileged user, since
// root reads everything.
import test from 'ava';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether, type Run } from '../cli/run.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

function chownTree(p: string): void {
  chownSync(p, NOBODY, NOBODY);
  for (const d of readdirSync(p, { withFileTypes: true })) {
    if (d.isDirectory()) chownTree(join(p, d.name));
    else chownSync(join(p, d.name), NOBODY, NOBODY);
  }
}

function setup() {
  const tmp = tempDir();
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  const store = join(tmp.dir, 'store');
  for (const r of [a, b]) {
    mkdirSync(join(r, 'd'), { recursive: true });
    writeFileSync(join(r, 'f1'), 'one\n');
    writeFileSync(join(r, 'd', 'g'), 'gee\n');
  }
  chownTree(tmp.dir);
  const run = (...extra: string[]): Run =>
    tether(['sync-dirs', a, b, '--store', store, ...extra], { uid: NOBODY, gid: NOBODY });
  return { a, b, store, run, cleanup: tmp.cleanup };
}

// chmod 000 stops only a user who is not root; the test switches to "nobody", which needs root.
(asRoot ? test : test.skip)(
  'unreadable paths on both sides are reported and skipped; the rest syncs (as root, run as nobody)',
  (t) => {
    const p = setup();
    try {
      t.is(p.run().status, 0);
      writeFileSync(join(p.b, 'newB'), 's\n');
      chownSync(join(p.b, 'newB'), NOBODY, NOBODY);
      chmodSync(join(p.b, 'newB'), 0);
      mkdirSync(join(p.a, 'secret'));
      writeFileSync(join(p.a, 'secret', 'x'), 'x\n');
      chownTree(join(p.a, 'secret'));
      chmodSync(join(p.a, 'secret'), 0);
      writeFileSync(join(p.a, 'f1'), 'one\nedited\n');
      writeFileSync(join(p.b, 'd', 'g'), 'gee, server\n');

      const strict = p.run('--strict');
      t.is(strict.status, 1, strict.stdout + strict.stderr);
      t.is(readFileSync(join(p.b, 'f1'), 'utf8'), 'one\n', '--strict changed nothing');

      const r = p.run();
      t.is(r.status, 1, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      t.regex(out, /newB/);
      t.regex(out, /secret/);
      t.notRegex(out, /exclude/);
      t.regex(out, /chmod|permission/);
      t.is(readFileSync(join(p.b, 'f1'), 'utf8'), 'one\nedited\n', 'the edit was sent');
      t.is(readFileSync(join(p.a, 'd', 'g'), 'utf8'), 'gee, server\n', 'the server edit came');

      chmodSync(join(p.b, 'newB'), 0o644);
      chmodSync(join(p.a, 'secret'), 0o755);
      const fixed = p.run();
      t.is(fixed.status, 0, fixed.stdout + fixed.stderr);
      t.is(readFileSync(join(p.a, 'newB'), 'utf8'), 's\n');
      t.is(readFileSync(join(p.b, 'secret', 'x'), 'utf8'), 'x\n');
    } finally {
      p.cleanup();
    }
  },
);

(asRoot ? test : test.skip)(
  'a snapshot records what it could and says what it left out; --strict refuses (as root, run as nobody)',
  (t) => {
    const p = setup();
    try {
      mkdirSync(join(p.a, 'secret'));
      chownTree(join(p.a, 'secret'));
      chmodSync(join(p.a, 'secret'), 0);
      writeFileSync(join(p.a, 'locked'), 'l\n');
      chownSync(join(p.a, 'locked'), NOBODY, NOBODY);
      chmodSync(join(p.a, 'locked'), 0);
      const as = { uid: NOBODY, gid: NOBODY };
      const strict = tether(
        ['snapshot', 'take', 's1', '--of', p.a, '--store', p.store, '--strict'],
        as,
      );
      t.is(strict.status, 1);
      t.regex(strict.stderr, /permission denied/);
      t.notRegex(strict.stderr, /exclude/);
      const r = tether(['snapshot', 'take', 's2', '--of', p.a, '--store', p.store], as);
      t.is(r.status, 1, r.stderr);
      t.regex(r.stdout, /left out: cannot list secret/);
      t.regex(r.stdout, /left out: cannot read locked/);
      t.regex(r.stdout, /2 paths left out/);
      const show = tether(['snapshot', 'show', 's2', '--store', p.store, '--json'], as);
      t.is(show.status, 0, show.stderr);
      t.regex(show.stdout, /"f1"/);
      t.notRegex(show.stdout, /"locked"/);
      t.is(
        tether(['snapshot', 'show', 's1', '--store', p.store], as).status,
        1,
        's1 was not taken',
      );
    } finally {
      p.cleanup();
    }
  },
);

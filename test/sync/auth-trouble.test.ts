// sync-dirs when the server replica refuses its user across the board (issue 16 item 7): the
// root, or most of the directories listed, unreadable for permission. The run stops before it
// plans anything, saying so (EAUTH, status 1), and nothing changes on either side; once access
// returns, the next run syncs everything. Run as an unprivileged user, since root reads
// everything. (One unreadable directory among readable ones: problems.test.ts.)
import test from 'ava';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether, type Run } from '../cli/run.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const DIRS = ['d1', 'd2', 'd3', 'd4'];

function chownTree(p: string): void {
  chownSync(p, NOBODY, NOBODY);
  for (const d of readdirSync(p, { withFileTypes: true })) {
    if (d.isDirectory()) chownTree(join(p, d.name));
    else chownSync(join(p, d.name), NOBODY, NOBODY);
  }
}

// chmod 000 stops only a user who is not root; the test switches to "nobody", which needs root.
(asRoot ? test : test.skip)(
  'a server replica refusing its user at the root or in most directories stops the run before planning (as root, run as nobody)',
  (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    const store = join(tmp.dir, 'store');
    for (const r of [a, b]) {
      for (const d of DIRS) {
        mkdirSync(join(r, d), { recursive: true });
        writeFileSync(join(r, d, 'g'), `${d}\n`);
      }
      writeFileSync(join(r, 'f1'), 'one\n');
    }
    chownTree(tmp.dir);
    const run = (): Run =>
      tether(['sync-dirs', a, b, '--store', store], { uid: NOBODY, gid: NOBODY });
    t.is(run().status, 0);
    writeFileSync(join(a, 'f1'), 'one, edited\n');

    // Three of the five directories (the root among them) refuse.
    for (const d of ['d1', 'd2', 'd3']) chmodSync(join(b, d), 0);
    const most = run();
    t.is(most.status, 1, most.stdout + most.stderr);
    t.regex(most.stderr, /refused this user 3 of the 5 directories/);
    t.regex(most.stderr, /nothing was changed/);
    t.is(readFileSync(join(b, 'f1'), 'utf8'), 'one\n', 'nothing planned from the refusals');
    for (const d of DIRS) t.is(readFileSync(join(a, d, 'g'), 'utf8'), `${d}\n`);
    for (const d of ['d1', 'd2', 'd3']) chmodSync(join(b, d), 0o755);

    // The root refuses.
    chmodSync(b, 0);
    const root = run();
    t.is(root.status, 1, root.stdout + root.stderr);
    t.regex(root.stderr, new RegExp(`the server replica ${b} refused this user`));
    chmodSync(b, 0o755);
    t.is(readFileSync(join(b, 'f1'), 'utf8'), 'one\n');
    for (const d of DIRS) t.is(readFileSync(join(a, d, 'g'), 'utf8'), `${d}\n`);

    const back = run();
    t.is(back.status, 0, back.stdout + back.stderr);
    t.is(readFileSync(join(b, 'f1'), 'utf8'), 'one, edited\n');
    for (const d of DIRS) t.is(readFileSync(join(b, d, 'g'), 'utf8'), `${d}\n`);
  },
);

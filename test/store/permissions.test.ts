// A store holds copies of its users' files: its directory is 0700 and every file in it 0600,
// whoever made the directory, also for a user who is not root. Run as that user, as users do.
import test from 'ava';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';

const NOBODY = 65534;
const why = process.getuid?.() !== 0 ? 'not root (switching users needs it)' : undefined;

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = { [rel === '' ? '.' : rel]: mode(join(dir, rel)) };
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) Object.assign(out, modes(dir, p));
    else out[p] = mode(join(dir, p));
  }
  return out;
}

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

function asNobody(args: string[]) {
  return tether(args, { uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: '/nonexistent' } });
}

(why === undefined ? test.serial : test.skip)(
  `an existing 0755 store directory of a non-root user becomes 0700, every file 0600${why === undefined ? '' : ` (skipped: ${why})`}`,
  (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    chmodSync(tmp.dir, 0o755);
    const tree = join(tmp.dir, 'T');
    const store = join(tmp.dir, 'S');
    mkdirSync(tree, { mode: 0o755 });
    writeFileSync(join(tree, 'secret.txt'), 'private\n', { mode: 0o600 });
    mkdirSync(store, { mode: 0o755 });
    chmodSync(store, 0o755);
    for (const p of [tree, join(tree, 'secret.txt'), store]) chownSync(p, NOBODY, NOBODY);

    const r = asNobody(['snapshot', 'take', 's', '--of', tree, '--store', store]);
    t.is(r.status, 0, r.stderr);
    const all = modes(store);
    for (const [p, m] of Object.entries(all)) {
      const dir = statSync(join(store, p)).isDirectory();
      t.true(dir ? m === '700' : m === '600' || m === '400', `${p} is ${m}`);
    }
    t.is(all['db/data.mdb'], '600');
    t.is(all['db/lock.mdb'], '600');
    t.is(statSync(join(store, 'db', 'data.mdb')).uid, NOBODY);
  },
);

(why === undefined ? test.serial : test.skip)(
  `a store directory the user cannot make private is refused, and says why${why === undefined ? '' : ` (skipped: ${why})`}`,
  (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    chmodSync(tmp.dir, 0o755);
    const tree = join(tmp.dir, 'T');
    const store = join(tmp.dir, 'shared');
    mkdirSync(tree);
    mkdirSync(store);
    chmodSync(store, 0o777); // root's, open to all: nobody may write in it but not chmod it
    const r = asNobody(['snapshot', 'take', 's', '--of', tree, '--store', store]);
    t.not(r.status, 0);
    t.regex(r.stderr, /open to other users \(mode 777\) and tether cannot make it private/);
    t.deepEqual(readdirSync(store), [], 'nothing was put in it');
  },
);

test.serial('a store made world-readable before is made private when it is next opened', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const tree = join(tmp.dir, 'T');
  const store = join(tmp.dir, 'S');
  mkdirSync(tree);
  t.is(tether(['snapshot', 'take', 's', '--of', tree, '--store', store]).status, 0);
  chmodSync(store, 0o755);
  chmodSync(join(store, 'db'), 0o755);
  chmodSync(join(store, 'db', 'data.mdb'), 0o644);
  t.is(tether(['snapshot', 'take', 's2', '--of', tree, '--store', store]).status, 0);
  t.is(mode(store), '700');
  t.is(mode(join(store, 'db')), '700');
  t.is(mode(join(store, 'db', 'data.mdb')), '600');
});

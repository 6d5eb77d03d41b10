// The two promises of apply that timing alone cannot show: a target changed between scan and
// apply is never overwritten (an injected hook changes it), and a run killed with kill -9 at
// any instant finishes on the next run with the same end state as an uninterrupted one — no
// change lost, no second variant, and a store that verifies.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { hashBytes } from '../../src/tree/index.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { mulberry32 } from '../../bench/lib/gentree.js';
import { tempDir, tether, tetherAsync } from '../cli/run.js';

test('a target changed after the scan is not overwritten, and the next run re-plans it', async (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    mkdirSync(a);
    writeFileSync(join(a, 'f.txt'), 'base\n');
    writeFileSync(join(a, 'g.txt'), 'base\n');
    execFileSync('cp', ['-a', a, b]);
    const store = await Store.create(join(tmp.dir, 'store'));
    try {
      await runSyncDirs(store, a, b);
      writeFileSync(join(a, 'f.txt'), 'local edit\n');
      writeFileSync(join(a, 'g.txt'), 'local edit of g\n');
      const r = await runSyncDirs(store, a, b, {
        hooks: {
          beforeAction: (_i, action) => {
            // Someone edits the server's f.txt after the scan, before tether writes it.
            if (action.path === 'f.txt') writeFileSync(join(b, 'f.txt'), 'server edit, late\n');
          },
        },
      });
      t.is(r.failures.length, 1);
      t.regex(r.failures[0]!.reason, /f\.txt changed since the scan/);
      t.is(readFileSync(join(b, 'f.txt'), 'utf8'), 'server edit, late\n', 'not overwritten');
      t.is(readFileSync(join(b, 'g.txt'), 'utf8'), 'local edit of g\n', 'the rest was applied');

      const next = await runSyncDirs(store, a, b);
      t.deepEqual(
        next.conflicts.map((c) => [c.path, c.kind]),
        [['f.txt', 'edit/edit']],
        'planned again: now a conflict, both versions kept',
      );
      t.is(readFileSync(join(b, 'f.txt'), 'utf8'), 'server edit, late\n');
      const variant = readdirSync(a).find((n) => n.startsWith('f.conflict-local-'));
      t.is(readFileSync(join(a, variant!), 'utf8'), 'local edit\n');
    } finally {
      await store.close();
    }
  } finally {
    tmp.cleanup();
  }
});

/** Seeded, so a failing kill schedule replays. */
const rng = mulberry32;

/** A pair after a first sync, then many changes on both sides (some conflicting). */
function scenario(root: string): { a: string; b: string; store: string } {
  const a = join(root, 'A');
  const b = join(root, 'B');
  const store = join(root, 'store');
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(a, `d${d}`), { recursive: true });
    for (let f = 0; f < 30; f++) writeFileSync(join(a, `d${d}`, `f${f}.txt`), `base ${d}/${f}\n`);
  }
  execFileSync('cp', ['-a', a, b]);
  const first = tether(['sync-dirs', a, b, '--store', store]);
  if (first.status !== 0) throw new Error(first.stderr);
  for (let d = 0; d < 10; d++) {
    for (let f = 0; f < 30; f += 2)
      writeFileSync(join(a, `d${d}`, `f${f}.txt`), `local ${d}/${f}\n`);
    for (let f = 0; f < 30; f += 3)
      writeFileSync(join(b, `d${d}`, `f${f}.txt`), `server ${d}/${f}\n`);
    writeFileSync(join(a, `d${d}`, 'new-local.txt'), Buffer.alloc(300_000, d));
    writeFileSync(join(b, `d${d}`, 'new-server.txt'), `new ${d}\n`);
  }
  return { a, b, store };
}

/** Every file of a replica with its content, variant names reduced to their pattern. */
function state(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else
        out[p.replace(/conflict-local-\d{8}T\d{6}Z-/, 'conflict-local-T-')] = hashBytes(
          readFileSync(join(dir, p)),
        ).slice(0, 16);
    }
  };
  walk('');
  return out;
}

test('kill -9 during apply, again and again: the reruns converge to the uninterrupted result', async (t) => {
  const tmp = tempDir();
  try {
    const ref = scenario(join(tmp.dir, 'ref'));
    const uninterrupted = tether(['sync-dirs', ref.a, ref.b, '--store', ref.store]);
    t.is(uninterrupted.status, 3, uninterrupted.stderr);
    const want = { a: state(ref.a), b: state(ref.b) };

    const run = scenario(join(tmp.dir, 'run'));
    const random = rng(42);
    let kills = 0;
    let finished = false;
    for (let attempt = 0; attempt < 40; attempt++) {
      const child = tetherAsync(['sync-dirs', run.a, run.b, '--store', run.store]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // Kills come later and later, so that some run is certain to finish even on a slow machine.
      const delay = 60 + Math.floor(random() * 400) + attempt * 150;
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const code = await new Promise<number | null>((r) =>
        child.on('exit', (c) => {
          r(c);
        }),
      );
      clearTimeout(timer);
      if (code === null) {
        kills++;
        continue;
      }
      t.true(code === 0 || code === 3, `exit ${code} after ${kills} kills: ${stderr}`);
      finished = true;
      break;
    }
    t.true(finished, 'a run finished');
    t.true(kills >= 1, `the schedule killed at least one run (killed ${kills})`);
    // Settle: a further run has nothing more to do.
    const settle = tether(['sync-dirs', run.a, run.b, '--store', run.store]);
    t.is(settle.status, 3);
    t.regex(settle.stdout, /^0 applied/m);

    t.deepEqual(state(run.a), want.a, 'A as after an uninterrupted run');
    t.deepEqual(state(run.b), want.b, 'B as after an uninterrupted run');
    const variants = Object.keys(state(run.a)).filter((p) => p.includes('.conflict-local-'));
    t.is(
      variants.length,
      50,
      'one variant per conflicting path (f0, f6, f12, f18, f24 of ten dirs), no duplicates',
    );
    t.is(tether(['fsck', '--store', run.store]).status, 0, 'the store verifies');
  } finally {
    tmp.cleanup();
  }
});

// `tether gc` as a user runs it: after `snapshot rm` it frees what only that snapshot held and
// keeps what others share; nothing reachable is ever freed (a property over random stores);
// a gc killed with -9 at any point leaves a store fsck accepts; --dry-run changes nothing; a
// store another command is working with is refused, and so is one whose daemon is there but
// does not answer (a mounted volume's gc runs in its daemon: test/mount/cull.test.ts).
import test from 'ava';
import fc from 'fast-check';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { held } from './held.js';
import { tempDir, tether, tetherAsync } from '../cli/run.js';

interface GcJson {
  objects: number;
  reachable: number;
  freed: number;
  freedBytes: number;
  dryRun: boolean;
}

function gcJson(store: string, ...more: string[]): GcJson {
  const r = tether(['gc', '--json', '--store', store, ...more]);
  if (r.status !== 0) throw new Error(`gc failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as GcJson;
}

function take(store: string, name: string, of: string): void {
  const r = tether(['snapshot', 'take', name, '--of', of, '--store', store]);
  if (r.status !== 0) throw new Error(`snapshot take failed: ${r.stderr}`);
}

function fsckClean(store: string): string | undefined {
  const r = tether(['fsck', '--store', store]);
  return r.status === 0 ? undefined : r.stdout + r.stderr;
}

const BIG = (c: string): Buffer => Buffer.alloc(300_000, c);

test('gc after snapshot rm frees what only that snapshot held and keeps what is shared', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = join(tmp.dir, 'store');
  const src = join(tmp.dir, 'src');
  mkdirSync(join(src, 'd'), { recursive: true });
  const shared = Buffer.from('shared\n');
  const onlyV1 = Buffer.from('only in v1\n');
  const bigV1 = BIG('a');
  const bigShared = BIG('s');
  writeFileSync(join(src, 'shared'), shared);
  writeFileSync(join(src, 'd', 'one'), onlyV1);
  writeFileSync(join(src, 'd', 'big'), bigV1);
  writeFileSync(join(src, 'big-shared'), bigShared);
  take(store, 'v1', src);
  rmSync(join(src, 'd'), { recursive: true });
  take(store, 'v2', src);

  t.is(gcJson(store).freed, 0, 'both snapshots still reach everything');
  const rm = tether(['snapshot', 'rm', 'v1', '--store', store]);
  t.is(rm.status, 0, rm.stderr);
  t.regex(rm.stdout, /tether gc/);
  const r = gcJson(store);
  t.true(r.freed >= 4, `freed ${r.freed}: two blobs and two trees`);
  t.true(r.freedBytes >= bigV1.length);
  t.deepEqual(await held(store, [shared, bigShared, onlyV1, bigV1]), [true, true, false, false]);
  t.is(fsckClean(store), undefined);
  t.is(gcJson(store, '--dry-run').freed, 0, 'nothing left to free');
});

test('--dry-run reports what gc would free and changes nothing', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = join(tmp.dir, 'store');
  const src = join(tmp.dir, 'src');
  mkdirSync(src);
  const gone = BIG('g');
  writeFileSync(join(src, 'f'), gone);
  take(store, 'v1', src);
  t.is(tether(['snapshot', 'rm', 'v1', '--store', store]).status, 0);
  const dry = gcJson(store, '--dry-run');
  t.true(dry.dryRun);
  t.true(dry.freed >= 2);
  t.deepEqual(await held(store, [gone]), [true]);
  t.deepEqual(gcJson(store, '--dry-run'), dry);
  const real = gcJson(store);
  t.is(real.freed, dry.freed);
  t.is(real.freedBytes, dry.freedBytes);
  t.deepEqual(await held(store, [gone]), [false]);
});

test('gc refuses a store another command holds, or whose daemon does not answer', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = join(tmp.dir, 'store');
  const src = join(tmp.dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'f'), 'x');
  take(store, 'v1', src);
  // This test's own process is alive: its pid in the lock file holds the lock, and in the
  // daemon's pid file it is a daemon with no control socket.
  writeFileSync(join(store, 'sync.lock'), String(process.pid));
  const locked = tether(['gc', '--store', store]);
  t.is(locked.status, 1);
  t.regex(locked.stderr, /another tether command .* run tether gc again/);
  rmSync(join(store, 'sync.lock'));
  writeFileSync(join(store, 'daemon.pid'), String(process.pid));
  const mounted = tether(['gc', '--store', store]);
  t.is(mounted.status, 1);
  t.regex(mounted.stderr, /a volume daemon owns the store .* could not run gc: no daemon serves/);
  rmSync(join(store, 'daemon.pid'));
  t.is(tether(['gc', '--store', store]).status, 0);
});

test('nothing reachable is freed, everything unreachable is (random stores)', (t) => {
  const names = ['a', 'b', 'c', 'd/x', 'd/y', 'e/f/g'];
  const contents = ['', 'one', 'two', 'three', 'big1', 'big2'];
  const body = (c: string): Buffer => (c.startsWith('big') ? BIG(c.slice(3)) : Buffer.from(c));
  const treeArb = fc.dictionary(fc.constantFrom(...names), fc.constantFrom(...contents), {
    minKeys: 1,
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(treeArb, fc.boolean()), { minLength: 2, maxLength: 4 }),
      (steps) => {
        const tmp = tempDir();
        try {
          const store = join(tmp.dir, 'store');
          steps.forEach(([tree], i) => {
            const src = join(tmp.dir, `src${i}`);
            for (const [name, c] of Object.entries(tree)) {
              mkdirSync(join(src, name, '..'), { recursive: true });
              writeFileSync(join(src, name), body(c));
            }
            take(store, `s${i}`, src);
          });
          steps.forEach(([, remove], i) => {
            if (remove) tether(['snapshot', 'rm', `s${i}`, '--store', store]);
          });
          gcJson(store);
          const bad = fsckClean(store);
          if (bad !== undefined) throw new Error(bad);
          if (gcJson(store, '--dry-run').freed !== 0) throw new Error('something left to free');
        } finally {
          tmp.cleanup();
        }
      },
    ),
    { seed: 1313, numRuns: 5 },
  );
  t.pass();
});

test('gc killed with -9 at any point leaves a store fsck accepts, every snapshot intact', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = join(tmp.dir, 'store');
  for (let s = 0; s < 4; s++) {
    const src = join(tmp.dir, `src${s}`);
    mkdirSync(src);
    for (let i = 0; i < 150; i++) writeFileSync(join(src, `f${i}`), `${s}-${i}\n`);
    for (let i = 0; i < 6; i++)
      writeFileSync(join(src, `big${i}`), BIG(String.fromCharCode(97 + s * 6 + i)));
    take(store, `s${s}`, src);
  }
  for (const s of ['s0', 's2']) t.is(tether(['snapshot', 'rm', s, '--store', store]).status, 0);
  const before = gcJson(store, '--dry-run');
  for (let round = 0; round < 8; round++) {
    const child = tetherAsync(['gc', '--store', store]);
    const ended = new Promise((r) => child.once('close', r));
    // From start-up to the sweep's last unlink (a run that finished first is killed late).
    await new Promise((r) => setTimeout(r, 40 + round * 30));
    child.kill('SIGKILL');
    await ended;
    t.is(fsckClean(store), undefined, `after a kill in round ${round}`);
  }
  const after = gcJson(store);
  t.is(after.reachable, before.reachable, 'every snapshot still reaches all of its objects');
  t.is(gcJson(store, '--dry-run').freed, 0);
  t.is(fsckClean(store), undefined);
});

// A dry run tells the truth: it changes nothing (no replica, no ref, no record), and its plan
// is the plan the real run then carries out, automatic text merges included (they used to be
// listed as conflicts by a dry run and merged by the real one). Over two in-memory replicas
// and over two directories through sync-dirs.
import test from 'ava';
import { lstatSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { walk } from '../scan/changes.js';
import { REF_BASE, REF_LOCAL, REF_SERVER } from '../../src/store/kv.js';
import { Store } from '../../src/store/store.js';
import { runEngine, type SyncSummary } from '../../src/sync/engine/engine.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { tempDir } from '../cli/run.js';
import { memoryWorld, view } from './sides.js';

const SEC = 1_000_000_000n;
const BASE_TEXT = 'one\ntwo\nthree\nfour\nfive\n';

/** What a plan does and decides, path by path (entries' stamps left out). */
function planOf(s: SyncSummary): unknown {
  return {
    actions: s.plan.actions.map((a) => `${a.op} ${a.side} ${a.path}`),
    conflicts: s.conflicts.map((c) => `${c.kind} ${c.path} ${c.variantPath ?? ''}`),
    notices: s.notices.map((c) => `${c.kind} ${c.path}`),
    autoMerged: s.autoMerged,
  };
}

test('memory: the dry run changes nothing and plans what the real run does', async (t) => {
  const w = memoryWorld();
  const mtime = (s: number): { mtimeNs: bigint } => ({ mtimeNs: BigInt(s) * SEC });
  for (const r of [w.local, w.server]) {
    r.writeFile('merge.txt', BASE_TEXT, mtime(100));
    r.writeFile('clash.txt', 'base\n', mtime(100));
    r.writeFile('gone.txt', 'bye\n', mtime(100));
  }
  await runEngine(w.engine);
  w.local.writeFile('merge.txt', BASE_TEXT.replace('one', 'ONE'), mtime(200));
  w.server.writeFile('merge.txt', BASE_TEXT.replace('five', 'FIVE'), mtime(300));
  w.local.writeFile('clash.txt', 'mine\n', mtime(200));
  w.server.writeFile('clash.txt', 'theirs\n', mtime(300));
  w.local.writeFile('new.txt', 'new\n', mtime(200));
  w.server.removeAll('gone.txt');

  const before = { local: view(w.local), server: view(w.server) };
  const refs = [REF_BASE, REF_LOCAL, REF_SERVER].map((r) => w.store.getRef(r));
  const dry = await runEngine(w.engine, { dryRun: true });
  t.deepEqual({ local: view(w.local), server: view(w.server) }, before);
  t.deepEqual(
    [REF_BASE, REF_LOCAL, REF_SERVER].map((r) => w.store.getRef(r)),
    refs,
  );
  t.is(dry.open, 0, 'no conflict recorded');

  const real = await runEngine(w.engine);
  t.deepEqual(dry.autoMerged, ['merge.txt']);
  t.deepEqual(planOf(dry), planOf(real));
  t.is(real.conflicts.length, 1);
  t.is(w.server.content('merge.txt')?.toString(), 'ONE\ntwo\nthree\nfour\nFIVE\n');
});

/** Every file of a directory with its mode, mtime and content: what a dry run must not touch. */
function holds(root: string): string[] {
  return walk(root)
    .files.map((f) => {
      const st = lstatSync(f);
      return `${f} ${st.mode} ${st.mtimeMs} ${readFileSync(f, 'utf8')}`;
    })
    .sort();
}

function write(path: string, text: string, sec: number): void {
  writeFileSync(path, text);
  utimesSync(path, sec, sec);
}

test('sync-dirs: the dry run changes nothing and plans what the real run does', async (t) => {
  const tmp = tempDir('ports-dry-');
  t.teardown(tmp.cleanup);
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  const store = await Store.create(join(tmp.dir, 'store'));
  t.teardown(() => store.close());
  for (const d of [a, b]) {
    mkdirSync(join(d, 'src'), { recursive: true });
    write(join(d, 'src', 'util.c'), BASE_TEXT, 1_000);
    write(join(d, 'clash.txt'), 'base\n', 1_000);
    write(join(d, 'gone.txt'), 'bye\n', 1_000);
  }
  await runSyncDirs(store, a, b);
  write(join(a, 'src', 'util.c'), BASE_TEXT.replace('one', 'ONE'), 2_000);
  write(join(b, 'src', 'util.c'), BASE_TEXT.replace('five', 'FIVE'), 3_000);
  write(join(a, 'clash.txt'), 'mine\n', 2_000);
  write(join(b, 'clash.txt'), 'theirs, longer\n', 3_000);
  write(join(a, 'new.txt'), 'new\n', 2_000);
  rmSync(join(b, 'gone.txt'));

  const now = new Date(Date.UTC(2026, 1, 3, 4, 5, 6));
  const before = { a: holds(a), b: holds(b) };
  const refs = [REF_BASE, REF_LOCAL, REF_SERVER].map((r) => store.getRef(r));
  const dry = await runSyncDirs(store, a, b, { dryRun: true, now });
  t.deepEqual({ a: holds(a), b: holds(b) }, before);
  t.deepEqual(
    [REF_BASE, REF_LOCAL, REF_SERVER].map((r) => store.getRef(r)),
    refs,
  );

  const real = await runSyncDirs(store, a, b, { now });
  t.deepEqual(dry.autoMerged, ['src/util.c']);
  t.deepEqual(planOf(dry), planOf(real));
  t.deepEqual(real.failures, []);
  t.is(readFileSync(join(b, 'src', 'util.c'), 'utf8'), 'ONE\ntwo\nthree\nfour\nFIVE\n');
});

// Random damage, as a failing disk does it: one byte of a store's files flipped at a time
// (fixed seed, bounded count). Every command either works or says what is damaged — never a
// signal death, never a raw stack — and a flip that fsck passes changes nothing any command
// shows: fsck finds every flip that changes a record's meaning. Most of a database file is
// stale copies and slack (LMDB copies pages on write), so half the flips land anywhere and
// half in the bytes of a live record (every copy of them), which fsck must find. The store is
// compacted once made: LMDB's page layout depends on how its writes happened to be batched,
// so without it the same seed would damage other structures from one run to the next.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../bench/lib/gentree.js';
import { Store } from '../../src/store/store.js';
import { tempDir, tether, type Run } from '../cli/run.js';
import { flip, makeStore } from './damage.js';
import { compact } from './lmdb-pages.js';

const FLIPS = Number(process.env['TETHER_FUZZ_FLIPS'] ?? 24);
const SEED = Number(process.env['TETHER_FUZZ_SEED'] ?? 20261204);

/** Every file of the store, with its size. */
function files(dir: string, rel = ''): { path: string; size: number }[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = join(rel, e.name);
    if (e.isDirectory()) return files(dir, p);
    return [{ path: p, size: statSync(join(dir, p)).size }];
  });
}

/** What the read-only commands show of a store (the meaning of its records). */
function views(store: string, a: string): Record<string, Run> {
  const run = (...args: string[]): Run => tether([...args, '--store', store]);
  return {
    list: run('snapshot', 'list', '--json'),
    show: run('snapshot', 'show', 's', '--json'),
    conflicts: run('conflicts', '--json', '--history'),
    diff: run('diff', 's', a, '--json'),
    variant: run('show', 'sub/f1.txt', '--variant', 'local'),
  };
}

/** The stored bytes of every live record (objects, refs, the other layers' records). */
async function liveRecords(dir: string): Promise<{ what: string; bytes: Buffer }[]> {
  const store = await Store.open(dir, { readOnly: true });
  try {
    const out: { what: string; bytes: Buffer }[] = [];
    for (const r of store.treeRecords())
      out.push({ what: `tree ${r.id}`, bytes: Buffer.from(r.bytes) });
    for (const r of store.blobRecords())
      out.push({ what: `blob ${r.id}`, bytes: Buffer.from(r.bytes) });
    for (const r of store.listRefs(''))
      out.push({ what: `ref ${r.name}`, bytes: Buffer.from(r.id) });
    for (const name of store.userDbNames()) {
      for (const r of store.rawRecords(name)) {
        out.push({ what: `record ${name}`, bytes: Buffer.from(r.stored) });
      }
    }
    // Short values could be found by chance elsewhere in the file.
    return out.filter((r) => r.bytes.length >= 12);
  } finally {
    await store.close();
  }
}

/** Offsets of every copy of `bytes` in `file`. */
function copiesIn(file: Buffer, bytes: Buffer): number[] {
  const out: number[] = [];
  for (let i = file.indexOf(bytes); i >= 0; i = file.indexOf(bytes, i + 1)) out.push(i);
  return out;
}

function sane(t: import('ava').ExecutionContext, what: string, r: Run): void {
  t.true(r.status >= 0 && r.status <= 3, `${what}: exit ${r.status} (a signal?) ${r.stderr}`);
  t.notRegex(r.stderr, /\n\s+at /, `${what}: no stack trace`);
  t.notRegex(r.stderr, /internal error|Segmentation|MDB_/, `${what}: ${r.stderr}`);
}

test('random byte flips in a store: every command works or says what is damaged', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const pristine = makeStore(join(tmp.dir, 'pristine'));
  const want = views(pristine.store, pristine.a);
  for (const [k, r] of Object.entries(want)) t.true(r.status === 0 || r.status === 1, k);
  // After the views: a command may write (and so move pages) even when it only reads.
  await compact(pristine.store);
  const all = files(pristine.store).filter((f) => f.size > 0 && !f.path.endsWith('lock.mdb'));
  // Most flips in the database, where the records are.
  const db = all.filter((f) => f.path.endsWith('data.mdb'));
  const random = mulberry32(SEED);
  const records = await liveRecords(pristine.store);
  const dbFile = readFileSync(join(pristine.store, 'db', 'data.mdb'));
  let found = 0;
  for (let i = 0; i < FLIPS; i++) {
    const mask = 1 + Math.floor(random() * 255);
    const work = join(tmp.dir, `flip-${i}`);
    execFileSync('cp', ['-a', join(tmp.dir, 'pristine'), work]);
    const store = join(work, 'S');
    const a = join(work, 'A');
    let where: string;
    let meaningful = false;
    if (i % 2 === 1) {
      const r = records[Math.floor(random() * records.length)]!;
      const at = Math.floor(random() * r.bytes.length);
      const copies = copiesIn(dbFile, r.bytes);
      for (const c of copies) flip(join(store, 'db', 'data.mdb'), c + at, mask);
      where = `${r.what} byte ${at} (${copies.length} copies)`;
      meaningful = copies.length > 0;
    } else {
      const pool = random() < 0.8 ? db : all;
      const f = pool[Math.floor(random() * pool.length)]!;
      const offset = Math.floor(random() * f.size);
      flip(join(store, f.path), offset, mask);
      where = `${f.path}@${offset}`;
    }
    const what = `flip ${i}: ${where}^${mask}`;

    const got = views(store, a);
    for (const [k, r] of Object.entries(got)) sane(t, `${what} ${k}`, r);
    const check = tether(['fsck', '--store', store]);
    sane(t, `${what} fsck`, check);
    if (meaningful) t.is(check.status, 1, `${what}: fsck must find it\n${check.stdout}`);
    if (check.status === 0) {
      // fsck saw nothing: then nothing any command shows may differ.
      for (const [k, r] of Object.entries(got)) {
        t.is(r.stdout, want[k]!.stdout, `${what}: fsck passed but ${k} changed`);
        t.is(r.status, want[k]!.status, `${what}: fsck passed but ${k} changed`);
      }
    } else found++;
    const sync = tether(['sync-dirs', a, join(work, 'B'), '--store', store]);
    sane(t, `${what} sync-dirs`, sync);
    const repair = tether(['fsck', '--repair', '--store', store]);
    sane(t, `${what} fsck --repair`, repair);
    rmSync(work, { recursive: true, force: true });
  }
  t.log(`${FLIPS} flips, ${found} found by fsck`);
});

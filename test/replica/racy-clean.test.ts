// The content-checked directory replica (the local side) re-reads a file it hashed only where
// its lstat could hide a change (git's racy-clean rule, replica/dir.ts): a second check of an
// unchanged, settled file costs no read; a rewrite that keeps size and mtime between an earlier
// check and the one a put makes before its rename is still caught, and nothing is overwritten.
import test from 'ava';
import { utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { DirReplica } from '../../src/replica/dir.js';
import type { OnPiece } from '../../src/store/stream.js';
import { hashBytes, type ByteString, type Entry, type Hash } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

const MTIME = 1_700_000_000;

/** The local replica, counting the files it reads to hash them. */
class Counting extends DirReplica {
  reads = 0;
  override async hash(path: ByteString): Promise<Hash> {
    this.reads++;
    return super.hash(path);
  }
}

/** A source whose copy runs `during` (a write between two checks of the target). */
class Meddling extends DirReplica {
  during: () => void = () => undefined;
  override async readContent(path: ByteString, onPiece: OnPiece): Promise<number> {
    this.during();
    return super.readContent(path, onPiece);
  }
}

function write(file: string, data: string): void {
  writeFileSync(file, data);
  utimesSync(file, MTIME, MTIME);
}

async function withId(r: DirReplica, path: string, data: string): Promise<Entry> {
  const e = await r.entry(path);
  if (e === undefined) throw new Error(`nothing at ${path}`);
  return { ...e, id: hashBytes(Buffer.from(data)) };
}

/** Past the rule's margin (100 ms): the file's ctime is old enough to vouch for it. */
const settle = (): Promise<void> => sleep(250);

test('a settled file hashed once is not read again while its lstat is the same', async (t) => {
  const tmp = tempDir('racy-clean-');
  t.teardown(tmp.cleanup);
  write(join(tmp.dir, 'f'), 'base\n');
  await settle();
  const r = new Counting(tmp.dir, 'local', undefined, true);
  const want = await withId(r, 'f', 'base\n');
  t.true(await r.matches('f', want));
  t.true(await r.matches('f', want));
  t.is(r.reads, 1);
});

test('a rewrite keeping size and mtime is read again and refused', async (t) => {
  const tmp = tempDir('racy-clean-');
  t.teardown(tmp.cleanup);
  const f = join(tmp.dir, 'f');
  write(f, 'base\n');
  await settle();
  const r = new Counting(tmp.dir, 'local', undefined, true);
  const want = await withId(r, 'f', 'base\n');
  t.true(await r.matches('f', want));
  write(f, 'BASE\n'); // same size, same mtime: only ctime tells
  t.false(await r.matches('f', want));
  t.is(r.reads, 2);
});

test('a file changed within the margin is read at every check', async (t) => {
  const tmp = tempDir('racy-clean-');
  t.teardown(tmp.cleanup);
  write(join(tmp.dir, 'f'), 'base\n');
  // A coarse clock (a minute's window, so a minute's margin): however slow this machine is
  // between the write and the checks, the file is recent.
  const r = new Counting(tmp.dir, 'local', 60_000_000_000n, true);
  const want = await withId(r, 'f', 'base\n');
  t.true(await r.matches('f', want));
  t.true(await r.matches('f', want));
  t.is(r.reads, 2);
});

test('put: a write to the target after it was checked is never overwritten', async (t) => {
  const local = tempDir('racy-clean-local-');
  const server = tempDir('racy-clean-server-');
  t.teardown(() => {
    local.cleanup();
    server.cleanup();
  });
  const target = join(local.dir, 'f');
  write(target, 'base\n');
  write(join(server.dir, 'f'), 'theirs, longer\n');
  await settle();
  const r = new Counting(local.dir, 'local', undefined, true);
  const source = new Meddling(server.dir, 'server');
  const expect = await withId(r, 'f', 'base\n');
  const entry = await withId(source, 'f', 'theirs, longer\n');
  // Checked (and hashed) once as unchanged: a stat alone would now vouch for it.
  t.true(await r.matches('f', expect));
  // The user saves the file while the copy runs: same size, same mtime, other bytes.
  source.during = () => {
    write(target, 'mine\n');
  };
  const out = await r.put('f', expect, entry, source, 'f');
  t.false(out.ok);
  t.is(readFileSync(target, 'utf8'), 'mine\n');
  t.is(r.reads, 2);
});

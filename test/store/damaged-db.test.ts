// A damaged database is reported in words, never a segfault: one flipped byte in a meta page
// of data.mdb (the page flags at 18, the magic at 24, a database's flags at 100) made every
// command, fsck included, die with SIGSEGV or an LMDB error code.
import test from 'ava';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';

/** A store with a snapshot and a sync state, and the replicas it was synced with. */
export function makeStore(dir: string): { store: string; a: string; b: string } {
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const store = join(dir, 'S');
  mkdirSync(join(a, 'sub'), { recursive: true });
  mkdirSync(b);
  for (let i = 0; i < 20; i++) writeFileSync(join(a, 'sub', `f${i}.txt`), `file ${i}\n`);
  writeFileSync(join(a, 'big.bin'), Buffer.alloc(300_000, 7));
  const first = tether(['sync-dirs', a, b, '--store', store, '--initial']);
  if (first.status !== 0) throw new Error(first.stderr);
  const snap = tether(['snapshot', 'take', 's', '--of', a, '--store', store]);
  if (snap.status !== 0) throw new Error(snap.stderr);
  return { store, a, b };
}

export function flip(path: string, offset: number, mask = 0xff): void {
  const fd = openSync(path, 'r+');
  try {
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, offset);
    one[0]! ^= mask;
    writeSync(fd, one, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

for (const offset of [18, 24, 100]) {
  test(`a flipped byte at ${offset} of data.mdb: every command says the database is damaged`, (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const { store, a, b } = makeStore(tmp.dir);
    flip(join(store, 'db', 'data.mdb'), offset);
    for (const args of [
      ['snapshot', 'list'],
      ['fsck'],
      ['conflicts'],
      ['sync-dirs', a, b],
      ['diff', 's', a],
    ]) {
      const r = tether([...args, '--store', store]);
      t.is(r.status, args[0] === 'diff' ? 2 : 1, `${args[0]}: ${r.stderr}`);
      t.regex(r.stderr, /the store's database is damaged .*meta page 0.*fsck --repair/, args[0]);
      t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
}

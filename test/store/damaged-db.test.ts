// A damaged database is reported in words, never a segfault: one flipped byte in a meta page
// of data.mdb (the page flags at 18, the magic at 24, a database's flags at 100) made every
// command, fsck included, die with SIGSEGV or an LMDB error code.
import test from 'ava';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';
import { flip, makeStore } from './damage.js';

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

// LMDB counts pages it allocated and freed again within one transaction in the meta page's last
// page without writing them, so after a kill -9 the last page can lie past the end of the file
// (seen: last page 128 of a 128-page file). Such a store is sound and must open; a last page
// past the map is damage.
test('a last page past the end of the file opens; one past the map is damage', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const { store } = makeStore(tmp.dir);
  const file = join(store, 'db', 'data.mdb');
  const bytes = readFileSync(file);
  const pageSize = bytes.readUInt32LE(0x30);
  const pages = BigInt(bytes.length / pageSize);
  const setLast = (value: bigint): void => {
    const fd = openSync(file, 'r+');
    try {
      for (const i of [0, 1]) {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(value);
        writeSync(fd, b, 0, 8, i * pageSize + 0x90);
      }
    } finally {
      closeSync(fd);
    }
  };
  setLast(pages + 2n);
  const ok = tether(['fsck', '--store', store]);
  t.is(ok.status, 0, ok.stderr);
  t.is(tether(['snapshot', 'list', '--store', store]).status, 0);
  setLast(2n ** 40n);
  const bad = tether(['fsck', '--store', store]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /the store's database is damaged .*last page beyond the map/);
});

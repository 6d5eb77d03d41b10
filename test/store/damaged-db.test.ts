// A damaged database is reported in words, never a segfault: one flipped byte in a meta page
// of data.mdb (the page flags at 18, the magic at 24, a database's flags at 100) made every
// command, fsck included, die with SIGSEGV or an LMDB error code.
import test from 'ava';
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

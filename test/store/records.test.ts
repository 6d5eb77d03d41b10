// Records of the other layers carry a checksum checked on read: a damaged conflict record is
// reported by name (not believed), fsck finds it and --repair sets it aside; a store made
// before records had checksums has them added, once, when it is opened for writing.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { Store } from '../../src/store/store.js';
import { tempDir, tether } from '../cli/run.js';
import { makeStore } from './damage.js';

/** Change the stored bytes of every record of a user database with `edit`, behind tether. */
async function rewrite(store: string, db: string, edit: (v: Buffer) => Buffer): Promise<void> {
  const env = openLmdb({ path: join(store, 'db'), maxDbs: 64 });
  try {
    const d = env.openDB<Buffer, Buffer>('u:' + db, { keyEncoding: 'binary', encoding: 'binary' });
    const all = [...d.getRange({})].map(({ key, value }) => ({ key, value: Buffer.from(value) }));
    await env.transaction(() => {
      for (const { key, value } of all) void d.put(key, edit(value));
    });
  } finally {
    await env.close();
  }
}

test('a damaged conflict record is reported, found by fsck and set aside by --repair', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const { store } = makeStore(tmp.dir);
  t.regex(tether(['conflicts', '--store', store]).stdout, /edit\/edit\tsub\/f1\.txt/);
  // One byte of the conflict's message ("... changed on both sides" or the like) flipped.
  await rewrite(store, 'conflicts', (v) => {
    const c = Buffer.from(v);
    c[c.length - 8]! ^= 0x20;
    return c;
  });
  const r = tether(['conflicts', '--store', store]);
  t.is(r.status, 1);
  t.regex(r.stderr, /a record in the store's "conflicts" database is damaged .*fsck --repair/);
  const check = tether(['fsck', '--store', store]);
  t.is(check.status, 1);
  t.regex(check.stdout, /damaged: record conflicts\/.*checksum does not match/);
  t.is(tether(['fsck', '--repair', '--store', store]).status, 1);
  t.is(tether(['fsck', '--store', store]).status, 0);
  t.is(tether(['conflicts', '--store', store]).status, 0, 'the store reads again');
});

test('a store whose records have no checksums yet gets them when opened, and reads the same', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const { store } = makeStore(tmp.dir);
  const before = tether(['conflicts', '--json', '--store', store]).stdout;
  // As an older tether left it: records without their four checksum bytes, marker version 1.
  for (const db of ['conflicts', 'plans', 'sync', 'snapshots', 'caches']) {
    await rewrite(store, db, (v) => v.subarray(0, v.length - 4));
  }
  const env = openLmdb({ path: join(store, 'db'), maxDbs: 64 });
  await env.openDB<string, string>('o:meta', { encoding: 'string' }).remove('records-sealed');
  await env.close();
  const marker = join(store, 'tether-store.json');
  writeFileSync(marker, readFileSync(marker, 'utf8').replace('"version":2', '"version":1'));

  const ro = await Store.open(store, { readOnly: true });
  t.false(ro.recordsSealed, 'read-only, an old store is read as it is');
  await ro.close();
  t.is(tether(['conflicts', '--json', '--store', store]).stdout, before);
  t.regex(readFileSync(marker, 'utf8'), /"version":2/);
  t.is(tether(['fsck', '--store', store]).status, 0, 'every record now has its checksum');
});

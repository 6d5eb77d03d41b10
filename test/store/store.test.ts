// The store: round trips of every object kind, refs, sub-databases, what a directory that is
// not a store gets, and corruption — found by reads, by fsck, and quarantined by --repair.
import test from 'ava';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { isTetherError } from '../../src/errors.js';
import { fsck } from '../../src/store/fsck.js';
import { BLOB_FILE_THRESHOLD, Store } from '../../src/store/store.js';
import { EMPTY_TREE_ID, hashBytes, type Entry } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

const fileEntry = (name: string, id: string, size: number): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size,
  mtimeNs: 1_700_000_000_000_000_000n,
  id,
});

async function withNewStore(fn: (s: Store, dir: string) => Promise<void>): Promise<void> {
  const t = tempDir();
  const dir = join(t.dir, 'store');
  const s = await Store.create(dir);
  try {
    await fn(s, dir);
  } finally {
    await s.close();
    t.cleanup();
  }
}

test('objects round-trip: trees, small, empty and big blobs, streamed files', async (t) => {
  await withNewStore(async (s, dir) => {
    t.is(statSync(dir).mode & 0o777, 0o700, 'the store directory is private');
    const small = await s.putBlob(Buffer.from('hello'));
    t.is(small, hashBytes(Buffer.from('hello')));
    t.is((await s.readBlob(small)).toString(), 'hello');
    const empty = await s.putBlob(Buffer.alloc(0));
    t.is((await s.readBlob(empty)).length, 0);
    const bigBytes = Buffer.alloc(BLOB_FILE_THRESHOLD * 3 + 17, 'ab');
    const big = await s.putBlob(bigBytes);
    t.true((await s.readBlob(big)).equals(bigBytes));
    t.is(s.blobSize(big), bigBytes.length);

    const src = join(dir, '..', 'src.bin');
    const data = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
    writeFileSync(src, data);
    const put = await s.putBlobFile(src);
    t.deepEqual(put, { id: hashBytes(data), size: data.length });
    const out = join(dir, '..', 'out.bin');
    await s.writeBlobToFile(put.id, out);
    t.true(readFileSync(out).equals(data));

    const tree = [fileEntry('a', small, 5), fileEntry('b\xff', big, bigBytes.length)];
    const id = s.putTree(tree);
    t.deepEqual(s.readTree(id), tree, 'readable in the same tick');
    t.true(s.has(id) && s.has(small) && s.has(big) && s.has(put.id) && s.has(EMPTY_TREE_ID));
    t.false(s.has(hashBytes(Buffer.from('never stored'))));
    t.deepEqual(s.readTree(EMPTY_TREE_ID), []);
    await s.setRef('snap/x', id);

    await s.close();
    const again = await Store.open(dir);
    try {
      t.deepEqual(again.readTree(id), tree, 'durable across close and open');
      t.is(again.getRef('snap/x'), id);
    } finally {
      await again.close();
    }
  });
});

test('unknown objects are ENOTFOUND with a hint', async (t) => {
  await withNewStore(async (s) => {
    const id = hashBytes(Buffer.from('nope'));
    const e1 = t.throws(() => s.readTree(id));
    t.true(isTetherError(e1) && e1.code === 'ENOTFOUND' && e1.message.includes('fsck'));
    const e2 = await t.throwsAsync(s.readBlob(id));
    t.true(isTetherError(e2) && e2.code === 'ENOTFOUND');
  });
});

test('refs: compare-and-set, delete, listing by prefix', async (t) => {
  await withNewStore(async (s) => {
    const a = s.putTree([]);
    const b = s.putTree([fileEntry('f', hashBytes(Buffer.from('x')), 1)]);
    await s.setRef('snap/one', a, null);
    await s.setRef('snap/two', b);
    await s.setRef('sync/base', b);
    const err = await t.throwsAsync(s.setRef('snap/one', b, b));
    t.true(isTetherError(err) && err.code === 'ECHANGED');
    t.is(s.getRef('snap/one'), a, 'a failed compare-and-set changes nothing');
    await s.setRef('snap/one', b, a);
    t.deepEqual(
      s.listRefs('snap/').map((r) => r.name),
      ['snap/one', 'snap/two'],
    );
    await s.deleteRef('snap/two');
    t.is(s.getRef('snap/two'), undefined);
    t.deepEqual(
      s.listRefs('').map((r) => r.name),
      ['snap/one', 'sync/base'],
    );
  });
});

test('named sub-databases keep Buffer keys and values', async (t) => {
  await withNewStore(async (s) => {
    const db = s.db('plans');
    await db.put(Buffer.from([0, 1, 2]), Buffer.from([9, 8]));
    t.deepEqual([...(db.get(Buffer.from([0, 1, 2])) as Buffer)], [9, 8]);
    t.is(s.db('other').get(Buffer.from([0, 1, 2])), undefined, 'databases are separate');
  });
});

test('a directory that is not a store is refused with what to do, and left as it was', async (t) => {
  const tmp = tempDir();
  try {
    const plain = join(tmp.dir, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'notes.txt'), 'mine');
    const file = join(tmp.dir, 'file');
    writeFileSync(file, 'x');
    for (const [where, why] of [
      [plain, 'no tether-store.json'],
      [file, 'not a directory'],
      [join(tmp.dir, 'missing'), 'does not exist'],
    ] as const) {
      const err = await t.throwsAsync(Store.open(where));
      t.true(isTetherError(err) && err.code === 'ENOTSTORE', where);
      t.true(err.message.includes(why) && err.message.includes('--store'), err.message);
    }
    const err = await t.throwsAsync(Store.openOrCreate(plain));
    t.true(isTetherError(err) && err.code === 'ENOTSTORE');
    t.deepEqual(readdirSync(plain), ['notes.txt'], 'nothing was created in it');

    const newer = join(tmp.dir, 'newer');
    mkdirSync(newer);
    writeFileSync(join(newer, 'tether-store.json'), '{"format":"tether-store","version":99}');
    const e2 = await t.throwsAsync(Store.open(newer));
    t.true(e2.message.includes('upgrade tether'));
  } finally {
    tmp.cleanup();
  }
});

test('corruption is found by reads and by fsck, and --repair quarantines it', async (t) => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'store');
  try {
    let s = await Store.create(dir);
    const small = await s.putBlob(Buffer.from('small content'));
    const bigData = Buffer.alloc(200_000, 'z');
    const big = await s.putBlob(bigData);
    const tree = s.putTree([
      fileEntry('big', big, bigData.length),
      fileEntry('small', small, 13),
    ]);
    await s.setRef('snap/v1', tree);
    t.deepEqual((await fsck(s)).problems, []);
    await s.close();

    // Flip bytes: the big blob's file, and the small blob's record inside LMDB.
    const bigPath = join(dir, 'blobs', big.slice(0, 2), big.slice(2));
    chmodSync(bigPath, 0o600);
    writeFileSync(bigPath, Buffer.alloc(200_000, 'y'));
    const env = openLmdb({ path: join(dir, 'db'), maxDbs: 64 });
    const blobs = env.openDB<Buffer, Buffer>('o:blobs', { keyEncoding: 'binary', encoding: 'binary' });
    await blobs.put(Buffer.from(small, 'hex'), Buffer.from('tampered!'));
    await env.close();

    s = await Store.open(dir);
    for (const id of [small, big]) {
      const err = await t.throwsAsync(s.readBlob(id));
      t.true(isTetherError(err) && err.code === 'ECORRUPT' && err.message.includes('fsck --repair'));
    }
    const err = await t.throwsAsync(s.writeBlobToFile(big, join(tmp.dir, 'restored')));
    t.true(isTetherError(err) && err.code === 'ECORRUPT');

    const report = await fsck(s);
    t.deepEqual(report.problems.map((p) => p.kind).sort(), ['corrupt', 'corrupt']);
    for (const p of report.problems) t.deepEqual(p.refs, ['snap/v1'], 'names the snapshot');

    const repaired = await fsck(s, { repair: true });
    t.true(repaired.repaired);
    t.is(readdirSync(join(dir, 'quarantine')).length, 2, 'moved aside, not deleted');
    const after = await fsck(s);
    t.deepEqual(
      after.problems.map((p) => [p.kind, p.refs]),
      [
        ['missing', ['snap/v1']],
        ['missing', ['snap/v1']],
      ],
      'afterwards the snapshot is reported as missing those objects',
    );
    await s.close();
  } finally {
    tmp.cleanup();
  }
});

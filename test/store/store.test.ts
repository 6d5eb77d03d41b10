// The store: round trips of every object kind, refs, sub-databases, what a directory that is
// not a store gets, and corruption — found by reads, by fsck, and quarantined by --repair.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { isTetherError } from '../../src/errors.js';
import { fsck } from '../../src/store/fsck.js';
import { BLOB_FILE_THRESHOLD, Store } from '../../src/store/store.js';
import { EMPTY_TREE_ID, hashBytes, type Entry, type Hash } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';
import { conformance } from './conformance.js';

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

test('objects are durable across close and open, in a private directory', async (t) => {
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

    const tree = [fileEntry('a', small, 5), fileEntry('b\xff', big, bigBytes.length)];
    const id = s.putTree(tree);
    t.deepEqual(s.readTree(id), tree, 'readable in the same tick');
    t.true(s.has(id) && s.has(small) && s.has(big) && s.has(EMPTY_TREE_ID));
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
    const tree = s.putTree([fileEntry('big', big, bigData.length), fileEntry('small', small, 13)]);
    await s.setRef('snap/v1', tree);
    t.deepEqual((await fsck(s)).problems, []);
    await s.close();

    // Flip bytes: the big blob's file, and the small blob's record inside LMDB.
    const bigPath = join(dir, 'blobs', big.slice(0, 2), big.slice(2));
    chmodSync(bigPath, 0o600);
    writeFileSync(bigPath, Buffer.alloc(200_000, 'y'));
    const env = openLmdb({ path: join(dir, 'db'), maxDbs: 64 });
    const blobs = env.openDB<Buffer, Buffer>('o:blobs', {
      keyEncoding: 'binary',
      encoding: 'binary',
    });
    await blobs.put(Buffer.from(small, 'hex'), Buffer.from('tampered!'));
    await env.close();

    s = await Store.open(dir);
    for (const id of [small, big]) {
      const err = await t.throwsAsync(s.readBlob(id));
      t.true(
        isTetherError(err) && err.code === 'ECORRUPT' && err.message.includes('fsck --repair'),
      );
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

/** Damage an object where Store keeps it (its blob file, or its LMDB record) and reopen. */
async function tamperStore(dir: string, store: Store, id: Hash, bytes: Buffer): Promise<Store> {
  await store.close();
  const file = join(dir, 'blobs', id.slice(0, 2), id.slice(2));
  try {
    chmodSync(file, 0o600);
    writeFileSync(file, bytes);
  } catch {
    const env = openLmdb({ path: join(dir, 'db'), maxDbs: 64 });
    try {
      const bin = { keyEncoding: 'binary', encoding: 'binary' } as const;
      const key = Buffer.from(id, 'hex');
      const db = ['o:trees', 'o:blobs']
        .map((name) => env.openDB<Buffer, Buffer>(name, bin))
        .find((d) => d.doesExist(key));
      if (db === undefined) throw new Error(`no object ${id} to damage`);
      await db.put(key, bytes);
    } finally {
      await env.close();
    }
  }
  return Store.open(dir);
}

conformance('lmdb', async () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'store');
  let store = await Store.create(dir);
  return {
    get store() {
      return store;
    },
    async tamper(id, bytes) {
      store = await tamperStore(dir, store, id, bytes);
      return store;
    },
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
});

test('opening removes temp files of killed writers, and keeps those of live ones', async (t) => {
  await withNewStore(async (s, dir) => {
    await s.close();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const litter = join(dir, 'tmp', `${dead}-abc`);
    const live = join(dir, 'tmp', `${process.pid}-def`);
    writeFileSync(litter, 'half a blob');
    writeFileSync(live, 'being written');
    const again = await Store.open(dir);
    await again.close();
    t.deepEqual(readdirSync(join(dir, 'tmp')), [`${process.pid}-def`]);
  });
});

test('fsck: a ref naming a blob and a stray file under blobs/ are problems', async (t) => {
  await withNewStore(async (s, dir) => {
    const blob = await s.putBlob(Buffer.from('not a tree'));
    await s.setRef('snap/odd', blob);
    writeFileSync(join(dir, 'blobs', 'stray'), 'x');
    const report = await fsck(s);
    t.deepEqual(
      report.problems.map((p) => [p.kind, p.detail, p.refs]),
      [
        ['stray', 'not a blob directory', []],
        ['missing', 'named as a tree but stored as a blob', ['snap/odd']],
      ],
    );
  });
});

test('a second process can use the same store at the same time', async (t) => {
  await withNewStore(async (s, dir) => {
    const mine = s.putTree([fileEntry('mine', hashBytes(Buffer.from('m')), 1)]);
    await s.setRef('snap/parent', mine);
    const storeJs = new URL('../../src/store/store.js', import.meta.url).href;
    const script = `
      const { Store } = await import(${JSON.stringify(storeJs)});
      const s = await Store.open(process.argv[1]);
      if (s.getRef('snap/parent') === undefined) process.exit(3);
      await s.setRef('snap/child', s.getRef('snap/parent'));
      await s.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], {
      encoding: 'utf8',
    });
    t.is(r.status, 0, r.stderr);
    t.is(s.getRef('snap/child'), mine, 'the other process wrote while this one had it open');
    t.deepEqual(s.readTree(mine)[0]!.name, 'mine');
  });
});

test('opening an existing store creates nothing; read-only opens read and refuse writes', async (t) => {
  await withNewStore(async (s, dir) => {
    const id = s.putTree([fileEntry('f', hashBytes(Buffer.from('f')), 1)]);
    await s.setRef('snap/a', id);
    await s.close();
    const list = (): string[] => readdirSync(dir, { recursive: true }).map(String).sort();
    const before = list();
    const again = await Store.open(dir);
    await again.close();
    t.deepEqual(list(), before);
    const ro = await Store.open(dir, { readOnly: true });
    try {
      t.is(ro.getRef('snap/a'), id);
      t.is(ro.readTree(id)[0]!.name, 'f');
      const err = await t.throwsAsync(ro.setRef('snap/b', id));
      t.true(isTetherError(err) && err.code === 'EUSAGE' && err.message.includes('read-only'));
    } finally {
      await ro.close();
    }
    t.deepEqual(list(), before);
  });
});

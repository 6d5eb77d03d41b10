// One contract, every store: the LMDB-backed Store and the in-memory MemoryStore both run
// these tests (store.test.ts and memory.test.ts), so a unit test over MemoryStore means what
// it would mean over the real thing.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTetherError } from '../../src/errors.js';
import type { TreeStore } from '../../src/merge/base-update.js';
import type { SyncStore } from '../../src/store/kv.js';
import {
  EMPTY_BLOB_ID,
  EMPTY_TREE_ID,
  encodeWithId,
  hashBytes,
  type Entry,
  type Hash,
} from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

/** What every store offers beyond the narrow interfaces. */
export type AnyStore = SyncStore &
  TreeStore & {
    putBlobFile(path: string | Buffer): Promise<{ id: Hash; size: number }>;
    writeBlobToFile(id: Hash, dest: string | Buffer): Promise<void>;
    blobSize(id: Hash): number | undefined;
    flush(): Promise<void>;
    close(): Promise<void>;
  };

export interface Subject {
  readonly store: AnyStore;
  /** Replace an object's stored bytes, as a damaged disk would; reads then use the new store. */
  tamper(id: Hash, bytes: Buffer): Promise<AnyStore>;
  close(): Promise<void>;
}

/** Makes a fresh, empty store of the kind under test. */
export type MakeSubject = () => Promise<Subject>;

/** Bigger than Store's in-database limit, so the big-blob path of a store is exercised. */
const BIG = 200_000;

export const fileEntry = (name: string, id: Hash, size: number): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 1000,
  gid: 1000,
  size,
  mtimeNs: 1_700_000_000_123_456_789n,
  id,
});

const dirEntry = (name: string, id: Hash): Entry => ({
  name,
  kind: 'dir',
  mode: 0o755,
  uid: 1000,
  gid: 1000,
  size: 0,
  mtimeNs: 1_700_000_000_000_000_000n,
  id,
});

function codeOf(err: unknown): string | undefined {
  return isTetherError(err) ? err.code : undefined;
}

async function using(make: MakeSubject, fn: (s: Subject) => Promise<void>): Promise<void> {
  const s = await make();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

export function conformance(label: string, make: MakeSubject): void {
  const it = (title: string, fn: (t: ExecutionContext, s: Subject) => Promise<void>): void => {
    test(`${label}: ${title}`, (t) => using(make, (s) => fn(t, s)));
  };

  it('blobs round-trip with their BLAKE3 ids: small, empty, big', async (t, { store }) => {
    const cases: [string, Buffer][] = [
      ['small', Buffer.from('hello')],
      ['empty', Buffer.alloc(0)],
      ['binary', Buffer.from([0, 255, 10, 13, 0])],
      ['big', Buffer.alloc(BIG, 'ab')],
    ];
    for (const [name, bytes] of cases) {
      const id = await store.putBlob(bytes);
      t.is(id, hashBytes(bytes), name);
      t.is(await store.putBlob(bytes), id, `${name}: idempotent`);
      t.true(store.has(id), name);
      t.true((await store.readBlob(id)).equals(bytes), name);
      t.is(store.blobSize(id), bytes.length, name);
    }
    t.is(await store.putBlob(Buffer.alloc(0)), EMPTY_BLOB_ID);
  });

  it('trees round-trip, are readable at once, and nest', async (t, { store }) => {
    const blob = hashBytes(Buffer.from('x'));
    const leaf = [fileEntry('a', blob, 1), fileEntry('b\xff\x01', blob, 1)];
    const leafId = store.putTree(leaf);
    t.is(leafId, encodeWithId(leaf).id, 'the id is the canonical encoding hash');
    t.deepEqual(store.readTree(leafId), leaf, 'readable in the same tick');
    const rootId = store.putTree([dirEntry('d', leafId), fileEntry('f', blob, 1)]);
    t.deepEqual(store.readTree(store.readTree(rootId)[0]!.id!), leaf);
    t.is(store.putTree(leaf), leafId, 'idempotent');
    t.true(store.has(leafId) && store.has(rootId));
    t.true(store.has(EMPTY_TREE_ID));
    t.deepEqual(store.readTree(EMPTY_TREE_ID), []);
    t.is(store.putTree([]), EMPTY_TREE_ID);
    await store.flush();
    t.deepEqual(store.readTree(leafId), leaf, 'and after a flush');
  });

  it('trees by their encoding: treeBytes gives what putTreeBytes took', async (t, { store }) => {
    const blob = hashBytes(Buffer.from('x'));
    const tree = [fileEntry('a', blob, 1), fileEntry('b', blob, 2)];
    const { bytes, id } = encodeWithId(tree);
    t.is(store.putTreeBytes(Buffer.from(bytes), id), id);
    t.deepEqual(store.treeBytes(id), bytes, 'in the same tick');
    t.deepEqual(store.readTree(id), tree);
    await store.flush();
    t.deepEqual(Buffer.from(store.treeBytes(id)), bytes, 'and after a flush');
    t.deepEqual(store.treeBytes(store.putTree(tree)), bytes, 'putTree stores the same bytes');
    t.deepEqual(store.treeBytes(EMPTY_TREE_ID), encodeWithId([]).bytes);
    t.is(codeOf(t.throws(() => store.treeBytes(hashBytes(Buffer.from('none'))))), 'ENOTFOUND');
  });

  it('unknown objects: has is false, reads are ENOTFOUND', async (t, { store }) => {
    const id = hashBytes(Buffer.from('never stored'));
    t.false(store.has(id));
    t.false(store.has('not a hash'));
    t.is(store.blobSize(id), undefined);
    t.is(codeOf(t.throws(() => store.readTree(id))), 'ENOTFOUND');
    t.is(codeOf(await t.throwsAsync(store.readBlob(id))), 'ENOTFOUND');
  });

  it('refs: compare-and-set, delete, listing by prefix', async (t, { store }) => {
    const a = store.putTree([]);
    const b = store.putTree([fileEntry('f', hashBytes(Buffer.from('x')), 1)]);
    t.is(store.getRef('snap/one'), undefined);
    await store.setRef('snap/one', a, null);
    t.is(
      codeOf(await t.throwsAsync(store.setRef('snap/one', b, null))),
      'ECHANGED',
      'null: must not exist',
    );
    await store.setRef('snap/two', b);
    await store.setRef('sync/base', b);
    await store.setRef('snapshot', a);
    t.is(codeOf(await t.throwsAsync(store.setRef('snap/one', b, b))), 'ECHANGED');
    t.is(store.getRef('snap/one'), a, 'a failed compare-and-set changes nothing');
    await store.setRef('snap/one', b, a);
    t.is(store.getRef('snap/one'), b);
    t.is(codeOf(await t.throwsAsync(store.setRef('snap/bad', 'xyz'))), 'EUSAGE');
    t.deepEqual(store.listRefs('snap/'), [
      { name: 'snap/one', id: b },
      { name: 'snap/two', id: b },
    ]);
    await store.deleteRef('snap/two');
    await store.deleteRef('snap/never');
    t.is(store.getRef('snap/two'), undefined);
    t.deepEqual(
      store.listRefs('').map((r) => r.name),
      ['snap/one', 'snapshot', 'sync/base'],
    );
    t.deepEqual(store.listRefs('zzz'), []);
  });

  it('sub-databases: Buffer keys and values, ranges, separate names', async (t, { store }) => {
    const db = store.db('plans');
    const k = (...b: number[]) => Buffer.from(b);
    for (const key of [k(2), k(0, 1), k(1), k(0), k(1, 0, 255)])
      await db.put(key, Buffer.concat([key, k(9)]));
    t.deepEqual([...(db.get(k(0, 1)) as Buffer)], [0, 1, 9]);
    t.is(store.db('other').get(k(0, 1)), undefined, 'databases are separate');
    const keys = (r: Iterable<{ key: unknown }>) => [...r].map((e) => [...(e.key as Buffer)]);
    t.deepEqual(keys(db.getRange({})), [[0], [0, 1], [1], [1, 0, 255], [2]]);
    t.deepEqual(keys(db.getRange({ start: k(0, 1), end: k(2) })), [[0, 1], [1], [1, 0, 255]]);
    t.deepEqual(keys(db.getRange({ start: k(1), limit: 1 })), [[1]]);
    t.deepEqual(keys(db.getRange({ reverse: true, limit: 2 })), [[2], [1, 0, 255]]);
    t.deepEqual(keys(db.getRange({ reverse: true, start: k(1, 0, 255), end: k(0) })), [
      [1, 0, 255],
      [1],
      [0, 1],
    ]);
    t.true(await db.remove(k(1)));
    t.is(db.get(k(1)), undefined);
    t.deepEqual(keys(db.getRange({ start: k(1) })), [[1, 0, 255], [2]]);
  });

  it('files: a 20 MB file streams in and out, a 0-byte one too', async (t, { store }) => {
    const tmp = tempDir();
    try {
      const data = Buffer.alloc(20 * 1024 * 1024);
      for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i ^ 0x5a5a5a5a, i);
      const cases: [string, Buffer][] = [
        ['20 MB', data],
        ['0 bytes', Buffer.alloc(0)],
        ['just under 64 KiB', data.subarray(0, 65535)],
        ['64 KiB exactly', data.subarray(0, 65536)],
      ];
      for (const [name, bytes] of cases) {
        const src = join(tmp.dir, 'src');
        writeFileSync(src, bytes);
        const put = await store.putBlobFile(src);
        t.deepEqual(
          { id: put.id, size: put.size },
          { id: hashBytes(bytes), size: bytes.length },
          name,
        );
        t.is(store.blobSize(put.id), bytes.length, name);
        const out = join(tmp.dir, 'out');
        writeFileSync(out, 'longer old content that must go away');
        await store.writeBlobToFile(put.id, out);
        t.true(readFileSync(out).equals(bytes), name);
        t.is(statSync(out).size, bytes.length, name);
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('damaged objects are ECORRUPT on read, never returned', async (t, s) => {
    const small = await s.store.putBlob(Buffer.from('small content'));
    const big = await s.store.putBlob(Buffer.alloc(BIG, 'z'));
    const tree = s.store.putTree([fileEntry('small', small, 13)]);
    await s.store.flush();
    await s.tamper(small, Buffer.from('tampered!'));
    await s.tamper(big, Buffer.alloc(BIG, 'y'));
    const store = await s.tamper(tree, Buffer.from('not a tree'));
    for (const id of [small, big]) {
      const err = await t.throwsAsync(store.readBlob(id));
      t.is(codeOf(err), 'ECORRUPT', id);
    }
    t.is(codeOf(t.throws(() => store.readTree(tree))), 'ECORRUPT');
    const tmp = tempDir();
    try {
      t.is(
        codeOf(await t.throwsAsync(store.writeBlobToFile(big, join(tmp.dir, 'out')))),
        'ECORRUPT',
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('property: any blobs and flat trees round-trip (seeded)', async (t, { store }) => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.uint8Array({ maxLength: 300 }), {
          minLength: 1,
          maxLength: 6,
          selector: (b) => Buffer.from(b).toString('hex'),
        }),
        async (blobs) => {
          const entries: Entry[] = [];
          for (const [i, b] of blobs.entries()) {
            const id = await store.putBlob(b);
            if (!(await store.readBlob(id)).equals(Buffer.from(b))) return false;
            entries.push(fileEntry(`f${i}`, id, b.length));
          }
          const id = store.putTree(entries);
          t.deepEqual(store.readTree(id), entries);
          return true;
        },
      ),
      { seed: 20261125, numRuns: 60 },
    );
  });
}

// ConflictStore over a real LMDB database in a temp dir: records round-trip exactly (byte
// names, nanosecond mtimes, xattrs), list is sorted by path bytes, resolve moves a record to
// the history, the history survives reopening, and damaged records are reported as such.
import test from 'ava';
import { open, type RootDatabase } from 'lmdb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTetherError } from '../../src/errors.js';
import type { Conflict } from '../../src/merge/plan.js';
import { ConflictStore, encodeConflict, type ConflictDb } from '../../src/sync/conflict-store.js';
import { fromText, hashBytes, type Entry } from '../../src/tree/index.js';

async function withDb(
  run: (db: ConflictDb, reopen: () => ConflictDb) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-conflict-store-'));
  let root: RootDatabase | undefined;
  const openDb = (): ConflictDb => {
    root = open({ path: join(dir, 'db') });
    return root.openDB({ name: 'conflicts', keyEncoding: 'binary', encoding: 'binary' });
  };
  try {
    const db = openDb();
    await run(db, () => {
      void root?.close();
      return openDb();
    });
  } finally {
    await root?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function file(name: string, text: string, extra: Partial<Entry> = {}): Entry {
  return {
    name: fromText(name),
    kind: 'file',
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    size: text.length,
    mtimeNs: 1_700_000_000_123_456_789n,
    id: hashBytes(Buffer.from(text)),
    ...extra,
  };
}

const editEdit: Conflict = {
  path: fromText('docs/notes.txt'),
  kind: 'edit/edit',
  base: file('notes.txt', 'a'),
  local: file('notes.txt', 'b', { xattrs: [[fromText('user.k'), Buffer.from([0, 255])]] }),
  server: file('notes.txt', 'c', { mode: 0o4755 }),
  fields: ['content'],
  variantPath: fromText('docs/notes.conflict-local-20260102T030405Z-12345678.txt'),
  informational: false,
  message: 'both sides changed the content',
};
// A name that is not UTF-8 (latin1 "café" as raw bytes).
const latin1Name = 'caf\xe9';
const modifyDelete: Conflict = {
  path: 'a/' + latin1Name,
  kind: 'modify/delete',
  base: file(latin1Name, 'x'),
  local: file(latin1Name, 'y'),
  server: null,
  fields: [],
  informational: true,
  message: 'modified locally, deleted on the server: the edit was kept',
};
const metadata: Conflict = {
  path: fromText('bin'),
  kind: 'metadata',
  base: { ...file('bin', ''), kind: 'dir', size: 0 },
  local: { ...file('bin', ''), kind: 'dir', size: 0, mode: 0o755 },
  server: { ...file('bin', ''), kind: 'dir', size: 0, mode: 0o700 },
  fields: ['mode'],
  informational: false,
  message: 'mode changed on both sides',
};

const records: [string, Conflict][] = [
  ['edit/edit with variant, xattrs and setuid mode', editEdit],
  ['modify/delete under a non-UTF-8 name', modifyDelete],
  ['metadata conflict on a directory', metadata],
];

for (const [title, c] of records) {
  test(`round-trips ${title}`, async (t) => {
    await withDb(async (db, reopen) => {
      await new ConflictStore(db).put(c);
      const again = new ConflictStore(reopen());
      t.deepEqual(again.get(c.path), c);
      t.true(again.has(c.path));
    });
  });
}

test('list is sorted by path bytes and replaces on put', async (t) => {
  await withDb(async (db) => {
    const s = new ConflictStore(db);
    for (const c of [modifyDelete, editEdit, metadata]) await s.put(c);
    await s.put({ ...editEdit, message: 'replaced' });
    const list = s.list();
    t.deepEqual(
      list.map((c) => c.path),
      [modifyDelete.path, metadata.path, editEdit.path].sort(),
    );
    t.is(list.find((c) => c.path === editEdit.path)?.message, 'replaced');
  });
});

test('resolve moves the record to the history, in order, and keeps it after reopening', async (t) => {
  await withDb(async (db, reopen) => {
    const s = new ConflictStore(db);
    await s.put(editEdit);
    await s.put(metadata);
    await s.record({
      conflict: modifyDelete,
      resolution: 'auto-merge',
      at: 1000,
      result: modifyDelete.local,
    });
    await s.resolve(editEdit.path, {
      resolution: 'both',
      at: 2000,
      result: editEdit.server,
      keptPath: editEdit.variantPath!,
    });
    t.deepEqual(
      s.list().map((c) => c.path),
      [metadata.path],
    );
    t.is(s.get(editEdit.path), undefined);
    const s2 = new ConflictStore(reopen());
    await s2.resolve(metadata.path, { resolution: 'server', at: 3000, result: metadata.server });
    const h = s2.history();
    t.deepEqual(
      h.map((r) => [r.conflict.path, r.resolution, r.at]),
      [
        [modifyDelete.path, 'auto-merge', 1000],
        [editEdit.path, 'both', 2000],
        [metadata.path, 'server', 3000],
      ],
    );
    t.deepEqual(h[1]!.conflict, editEdit);
    t.is(h[1]!.keptPath, editEdit.variantPath);
    t.deepEqual(h[2]!.result, metadata.server);
    t.deepEqual(
      s2.history(2).map((r) => r.at),
      [2000, 3000],
    );
    t.is(s2.list().length, 0);
  });
});

test('resolve of a path without a conflict says so', async (t) => {
  await withDb(async (db) => {
    const s = new ConflictStore(db);
    const err = await t.throwsAsync(
      s.resolve(fromText('nope'), { resolution: 'local', at: 0, result: null }),
    );
    t.true(isTetherError(err, 'ENOTFOUND'));
    t.regex(err.message, /no conflict is recorded at nope/);
  });
});

test('delete forgets an open record without history', async (t) => {
  await withDb(async (db) => {
    const s = new ConflictStore(db);
    await s.put(editEdit);
    t.true(await s.delete(editEdit.path));
    t.false(await s.delete(editEdit.path));
    t.deepEqual(s.list(), []);
    t.deepEqual(s.history(), []);
  });
});

test('a damaged record is reported as corrupt, not misread', async (t) => {
  await withDb(async (db) => {
    await db.put(Buffer.concat([Buffer.from([0]), Buffer.from('x')]), Buffer.from([1, 2, 3]));
    const err = t.throws(() => new ConflictStore(db).list());
    t.true(isTetherError(err, 'ECORRUPT'));
    t.regex(err.message, /conflict records are damaged/);
  });
});

test('several conflicts at one path: each its own record, named by its variant', async (t) => {
  await withDb(async (db, reopen) => {
    const s = new ConflictStore(db);
    const second: Conflict = {
      ...editEdit,
      local: file('notes.txt', 'b2'),
      variantPath: fromText('docs/notes.conflict-local-20260103T030405Z-87654321.txt'),
    };
    await s.put(editEdit);
    await s.put(second);
    await s.put(editEdit); // the same conflict again: no second record
    const s2 = new ConflictStore(reopen());
    t.deepEqual(s2.list(), [editEdit, second], 'oldest first');
    t.deepEqual(s2.at(editEdit.path), [editEdit, second]);
    t.deepEqual(s2.get(second.variantPath!), second);
    t.true(s2.has(second.variantPath!));
    const err = t.throws(() => s2.get(editEdit.path));
    t.true(isTetherError(err, 'EUSAGE'));
    t.regex(err.message, /2 conflicts are open at docs\/notes\.txt; name one by its variant/);
    await s2.resolve(second.variantPath!, { resolution: 'local', at: 1, result: second.local });
    t.deepEqual(s2.list(), [editEdit]);
    t.deepEqual(s2.get(editEdit.path), editEdit, 'one left: its path names it again');
  });
});

test('putAll, at once: several at one path each get a record, and the same batch again adds none', async (t) => {
  await withDb(async (db, reopen) => {
    const s = new ConflictStore(db);
    const second: Conflict = {
      ...editEdit,
      local: file('notes.txt', 'b2'),
      variantPath: fromText('docs/notes.conflict-local-20260103T030405Z-87654321.txt'),
    };
    // A plan's conflicts, written without waiting between them (one commit).
    await s.putAll([editEdit, second, modifyDelete]);
    // A resumed run records the same plan again.
    await s.putAll([editEdit, second, modifyDelete]);
    const s2 = new ConflictStore(reopen());
    t.deepEqual(s2.at(editEdit.path), [editEdit, second], 'two records, oldest first');
    t.deepEqual(s2.list().length, 3);
    t.deepEqual(s2.get(second.variantPath!), second);
    t.deepEqual(s2.get(editEdit.variantPath!), editEdit);
  });
});

test('a record an older version wrote (key without a number) is read, named and resolved', async (t) => {
  await withDb(async (db) => {
    await db.put(
      Buffer.concat([Buffer.from([0]), Buffer.from(editEdit.path, 'latin1')]),
      encodeConflict(editEdit),
    );
    const s = new ConflictStore(db);
    await s.put({ ...editEdit, variantPath: fromText('docs/v2') });
    t.is(s.list().length, 2);
    t.deepEqual(s.get(editEdit.variantPath!), editEdit);
    await s.resolve(editEdit.variantPath!, { resolution: 'server', at: 1, result: null });
    t.deepEqual(
      s.list().map((c) => c.variantPath),
      [fromText('docs/v2')],
    );
  });
});

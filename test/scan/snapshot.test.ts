// Directory snapshots: every kind and field captured, names as bytes, contents stored, and the
// stat cache — a re-snapshot reads only what changed, including a same-size same-mtime
// replacement that only ctime and inode give away.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  renameSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import { scanDirectory } from '../../src/scan/index.js';
import { Store } from '../../src/store/store.js';
import {
  hashBytes,
  joinPath,
  type Entry,
  type Hash,
  type TreeReader,
} from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

function flat(reader: TreeReader, id: Hash, dir = '', out = new Map<string, Entry>()) {
  for (const e of reader.readTree(id)) {
    const p = joinPath(dir, e.name);
    out.set(p, e);
    if (e.kind === 'dir' && e.id !== undefined) flat(reader, e.id, p, out);
  }
  return out;
}

async function withTree(
  fn: (root: string, store: Store, tmp: string) => Promise<void>,
): Promise<void> {
  const t = tempDir();
  const root = join(t.dir, 'tree');
  mkdirSync(root);
  const store = await Store.create(join(t.dir, 'store'));
  try {
    await fn(root, store, t.dir);
  } finally {
    await store.close();
    t.cleanup();
  }
}

/**
 * Make every file look older than the racy window, as a tree edited a while ago does: its
 * mtime set back, and its ctime (now, set by that very utimes) let fall behind the window.
 */
async function age(paths: string[]): Promise<void> {
  const old = new Date(Date.now() - 60_000);
  for (const p of paths) utimesSync(p, old, old);
  await new Promise((r) => setTimeout(r, 250));
}

test('every kind, mode bits, xattrs and byte names are captured; contents are stored', async (t) => {
  await withTree(async (root, store) => {
    writeFileSync(join(root, 'a.txt'), 'alpha');
    chmodSync(join(root, 'a.txt'), 0o4751);
    writeFileSync(join(root, 'empty'), '');
    mkdirSync(join(root, 'sub'));
    mkdirSync(join(root, 'sub', 'emptydir'));
    symlinkSync('../a.txt', join(root, 'sub', 'link'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    writeFileSync(Buffer.from(join(root, 'caf\xe9'), 'latin1'), 'latin-1 name');
    setAttributeSync(join(root, 'a.txt'), 'user.colour', 'blue');

    const r = await scanDirectory(store, root);
    const m = flat(store, r.id);
    t.deepEqual([...m.keys()].sort(), [
      'a.txt',
      'caf\xe9',
      'empty',
      'pipe',
      'sub',
      'sub/emptydir',
      'sub/link',
    ]);
    const a = m.get('a.txt')!;
    t.is(a.mode, 0o4751);
    t.is(a.id, hashBytes(Buffer.from('alpha')));
    t.deepEqual(
      a.xattrs?.map(([k, v]) => [k, v.toString()]),
      [['user.colour', 'blue']],
    );
    t.is(m.get('sub/link')!.target, '../a.txt');
    t.is(m.get('pipe')!.kind, 'fifo');
    t.is(m.get('empty')!.size, 0);
    t.is((await store.readBlob(m.get('caf\xe9')!.id!)).toString(), 'latin-1 name');
    t.is(r.files, 3, 'regular files counted');
  });
});

test('a re-snapshot reads only what changed (the stat cache)', async (t) => {
  await withTree(async (root, store) => {
    const paths: string[] = [];
    for (let i = 0; i < 50; i++) {
      const p = join(root, `f${i}`);
      writeFileSync(p, `content ${i}`);
      paths.push(p);
    }
    await age(paths);
    const first = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(first.hashedFiles, 50);
    const same = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(same.hashedFiles, 0);
    t.is(same.id, first.id);

    writeFileSync(paths[3]!, 'edited');
    writeFileSync(join(root, 'new'), 'new file');
    await age([paths[3]!, join(root, 'new')]);
    const next = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(next.hashedFiles, 2, 'the edited and the new file');
    t.not(next.id, first.id);

    // Same size, same mtime, new content: only ctime and the inode tell.
    const st = statSync(paths[7]!);
    const tmp = join(root, '..', 'replacement');
    writeFileSync(tmp, 'content X');
    utimesSync(tmp, st.atime, st.mtime);
    renameSync(tmp, paths[7]!);
    const caught = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(caught.hashedFiles, 1);
    t.is(flat(store, caught.id).get('f7')!.id, hashBytes(Buffer.from('content X')));
  });
});

test('files written just now are read again next time (racy stamps are not trusted)', async (t) => {
  await withTree(async (root, store) => {
    writeFileSync(join(root, 'fresh'), 'x');
    // Its mtime a little ahead of now: however long a loaded machine takes to start the scan,
    // the file is modified too close to it for its stamp to vouch for it next time.
    const soon = new Date(Date.now() + 2000);
    utimesSync(join(root, 'fresh'), soon, soon);
    await scanDirectory(store, root, { cacheKey: 'k' });
    const again = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(again.hashedFiles, 1);
  });
});

test('a sparse multi-GB file is streamed, not held in memory', async (t) => {
  await withTree(async (root, store) => {
    const p = join(root, 'sparse');
    execFileSync('truncate', ['-s', '3G', p]);
    writeFileSync(join(root, 'small'), 'x');
    const before = process.memoryUsage().rss;
    const r = await scanDirectory(store, root);
    const grew = process.memoryUsage().rss - before;
    t.is(r.bytes, 3 * 1024 ** 3 + 1);
    t.true(grew < 512 * 1024 * 1024, `memory grew by ${grew} bytes`);
    t.is(store.blobSize(flat(store, r.id).get('sparse')!.id!), 3 * 1024 ** 3);
  });
});

test('a file that changes while it is read is a clear error, and nothing is half stored', async (t) => {
  await withTree(async (root, store) => {
    const p = join(root, 'growing.log');
    writeFileSync(p, Buffer.alloc(4 * 1024 * 1024, 'a'));
    const { spawn } = await import('node:child_process');
    // A writer appending as fast as it can while the snapshot reads.
    const writer = spawn('sh', ['-c', `while :; do echo line >> '${p}'; done`]);
    try {
      await new Promise((r) => setTimeout(r, 50));
      const err = await t.throwsAsync(scanDirectory(store, root));
      t.regex(err.message, /growing\.log .*changed while it was read.*run the snapshot again/);
    } finally {
      writer.kill('SIGKILL');
    }
  });
});

test('a touch without a content change reads the file again but keeps its content id', async (t) => {
  await withTree(async (root, store) => {
    const p = join(root, 'f');
    writeFileSync(p, 'same bytes');
    await age([p]);
    const first = await scanDirectory(store, root, { cacheKey: 'k' });
    const before = flat(store, first.id).get('f')!;
    utimesSync(p, new Date(2001, 1, 1), new Date(2001, 1, 1));
    const touched = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(touched.hashedFiles, 1, 'the new mtime makes the stat cache miss');
    const after = flat(store, touched.id).get('f')!;
    t.is(after.id, before.id);
    t.not(after.mtimeNs, before.mtimeNs);
  });
});

// Sparse files keep their holes (SEEK_DATA / SEEK_HOLE): hashed without reading the holes,
// with the same id as their bytes read whole, and copied by sync-dirs as sparse files, in both
// directions, instead of arriving fully allocated.
import test from 'ava';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { hashFile } from '../../src/store/stream.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { hashBytes } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

const MiB = 1 << 20;

/** A file of `size` bytes that is all hole but for a few data blocks (one at the very end). */
function makeSparse(p: string, size: number, tag: string): void {
  writeFileSync(p, '');
  truncateSync(p, size);
  const fd = openSync(p, 'r+');
  try {
    for (const at of [0, 5 * MiB + 123, size - 4096])
      writeSync(fd, Buffer.alloc(4096, tag), 0, 4096, at);
  } finally {
    closeSync(fd);
  }
}

/** Bytes the file takes on disk. */
const allocated = (p: string): number => statSync(p).blocks * 512;

test('a sparse file hashes to the id of its bytes, holes included', async (t) => {
  const tmp = tempDir();
  try {
    const p = join(tmp.dir, 'sparse');
    makeSparse(p, 40 * MiB, 'x');
    t.true(allocated(p) < MiB, 'the file system made it sparse');
    t.is(await hashFile(p), hashBytes(readFileSync(p)));
    // A trailing hole too (the last data block 1 MiB before the end).
    truncateSync(p, 41 * MiB);
    t.is(await hashFile(p), hashBytes(readFileSync(p)));
  } finally {
    tmp.cleanup();
  }
});

test('sync-dirs copies sparse files as sparse files, both ways', async (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    for (const r of [a, b]) {
      mkdirSync(r);
      writeFileSync(join(r, 'keep'), 'k\n');
    }
    const store = await Store.create(join(tmp.dir, 'store'));
    try {
      await runSyncDirs(store, a, b);
      makeSparse(join(a, 'from-a.img'), 256 * MiB, 'a');
      makeSparse(join(b, 'from-b.img'), 256 * MiB, 'b');
      const s = await runSyncDirs(store, a, b);
      t.is(s.failures.length, 0);
      for (const [src, dst] of [
        [join(a, 'from-a.img'), join(b, 'from-a.img')],
        [join(b, 'from-b.img'), join(a, 'from-b.img')],
      ] as const) {
        t.is(statSync(dst).size, 256 * MiB);
        t.true(allocated(dst) < 4 * MiB, `${dst} is sparse (${allocated(dst)} bytes allocated)`);
        t.is(await hashFile(dst), await hashFile(src));
      }
    } finally {
      await store.close();
    }
  } finally {
    tmp.cleanup();
  }
});

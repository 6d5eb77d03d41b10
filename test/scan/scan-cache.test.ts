// The directory lister and the scan cache. The native lister and the JavaScript one give the
// same bytes for every kind of entry; a scan that takes unchanged directories and files from
// the cache makes exactly the tree a scan without a cache makes, whatever changed in between
// (random trees and random changes, including same-size edits with the old mtime put back);
// and fsck --repair, which may remove objects the cache vouches for, makes the cache forget.
import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import { scanDirectory } from '../../src/scan/index.js';
import { fsck } from '../../src/store/fsck.js';
import { Store } from '../../src/store/store.js';
import {
  listDir,
  listDirAsync,
  listDirJs,
  lister,
  matchListings,
  matchListingsJs,
} from '../../src/scan/list-dir.js';
import { scanReplica } from '../../src/scan/scan-replica.js';
import { hashBytes, joinPath, type Hash, type TreeReader } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';
import { applyChange, change, walk } from './changes.js';

async function withTree(fn: (root: string, store: Store) => Promise<void>): Promise<void> {
  const t = tempDir();
  const root = join(t.dir, 'tree');
  mkdirSync(root);
  const store = await Store.create(join(t.dir, 'store'));
  try {
    await fn(root, store);
  } finally {
    await store.close();
    t.cleanup();
  }
}

/** Every path of a tree with its entry, as comparable text. */
function flat(reader: TreeReader, id: Hash, dir = '', out: string[] = []): string[] {
  for (const e of reader.readTree(id)) {
    const p = joinPath(dir, e.name);
    const { id: eid, ...rest } = e;
    out.push(
      `${p} ${JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} ${e.kind === 'dir' ? '' : (eid ?? '')}`,
    );
    if (e.kind === 'dir' && e.id !== undefined) flat(reader, e.id, p, out);
  }
  return out;
}

test('the native lister is built and gives the same bytes as the JavaScript one', async (t) => {
  t.is(lister, 'native', 'build it with "npm run build:native" (needs make and a C compiler)');
  await withTree(async (root) => {
    writeFileSync(join(root, 'file'), 'content');
    chmodSync(join(root, 'file'), 0o4751);
    writeFileSync(Buffer.from(join(root, 'caf\xe9'), 'latin1'), 'latin-1 name');
    mkdirSync(join(root, 'dir'));
    setAttributeSync(join(root, 'dir'), 'user.tag', 'x');
    setAttributeSync(join(root, 'file'), 'user.colour', 'blue');
    symlinkSync('file', join(root, 'link'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'sock'), resolve));
    try {
      for (const xattrs of [true, false]) {
        const native = listDir(Buffer.from(root), xattrs);
        t.deepEqual(native.raw, listDirJs(Buffer.from(root), xattrs), `xattrs: ${xattrs}`);
        t.deepEqual((await listDirAsync(Buffer.from(root), xattrs)).raw, native.raw);
      }
      const l = listDir(Buffer.from(root), true);
      const names = Array.from({ length: l.count }, (_, i) => l.name(i));
      t.deepEqual(names, ['caf\xe9', 'dir', 'file', 'link', 'null', 'pipe', 'sock']);
      const kinds = Array.from({ length: l.count }, (_, i) => l.kind(i));
      t.deepEqual(kinds, ['file', 'dir', 'file', 'symlink', 'chardev', 'fifo', 'socket']);
      const file = l.stat(names.indexOf('file'));
      const st = statSync(join(root, 'file'), { bigint: true });
      t.is(file.mode, Number(st.mode));
      t.is(file.mtimeNs, st.mtimeNs);
      t.is(file.ctimeNs, st.ctimeNs);
      t.is(file.ino, st.ino);
      t.is(file.size, 7);
      t.true(file.userXattrs);
      t.true(l.stat(names.indexOf('dir')).userXattrs);
      t.false(l.stat(names.indexOf('caf\xe9')).userXattrs);
      t.is(l.stat(names.indexOf('null')).rdev, statSync(join(root, 'null')).rdev);
    } finally {
      server.close();
    }
  });
});

/** A listing's entry i with its xattr flag set (the field FIELD_FLAGS, u64 11 of 14). */
function withFlag(raw: Buffer, i: number): Buffer {
  const out = Buffer.from(raw);
  out.writeBigUInt64LE(1n, 8 + i * 14 * 8 + 11 * 8);
  return out;
}

test('an earlier listing lends its xattr flags only to entries whose lstat, ctime included, is as then and older than its cutoff', async (t) => {
  await withTree(async (root) => {
    writeFileSync(join(root, 'plain'), 'no xattrs');
    writeFileSync(join(root, 'touched'), 'no xattrs either');
    const dir = Buffer.from(root);
    const now = listDir(dir, true);
    t.deepEqual([now.name(0), now.name(1)], ['plain', 'touched']);
    t.false(now.stat(0).userXattrs);
    // A forged earlier listing that says both had xattrs: where it is believed, the flag comes
    // from it (so no llistxattr was made); where not, the file is asked and says no.
    const old = withFlag(withFlag(now.raw, 0), 1);
    const ctimeUs = Number(now.stat(0).ctimeNs / 1000n);
    for (const list of [listDir, listDirAsync]) {
      const lent = await list(dir, true, { listing: old, cutoffUs: ctimeUs + 1 });
      t.true(lent.stat(0).userXattrs, 'same lstat, ctime before the cutoff: the flag is kept');
      const racy = await list(dir, true, { listing: old, cutoffUs: ctimeUs });
      t.false(racy.stat(0).userXattrs, 'ctime not before the cutoff: asked again');
      const plain = await list(dir, false, { listing: old, cutoffUs: Infinity });
      t.false(plain.stat(0).userXattrs, 'xattrs not asked for: no flags at all');
    }
    // An xattr set since changes ctime: that entry is asked again, and says yes.
    setAttributeSync(join(root, 'touched'), 'user.tag', 'x');
    const after = listDir(dir, true, { listing: now.raw, cutoffUs: Infinity });
    t.false(after.stat(0).userXattrs);
    t.true(after.stat(1).userXattrs);
    // A damaged earlier listing is not used.
    const junk = listDir(dir, true, { listing: Buffer.from([9, 9, 9]), cutoffUs: Infinity });
    t.deepEqual(junk.raw, listDir(dir, true).raw);
  });
});

test('an xattr set on a file the scan cache vouched for is found on the next scan', async (t) => {
  await withTree(async (root, store) => {
    writeFileSync(join(root, 'f'), 'content');
    aged(join(root, 'f'));
    // Older than the first scan's cutoff, so that scan's listing may lend the flag next time.
    await new Promise((r) => setTimeout(r, 250));
    const first = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(store.readTree(first.id)[0]!.xattrs, undefined);
    const same = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(same.id, first.id);
    setAttributeSync(join(root, 'f'), 'user.colour', 'blue');
    const next = await scanDirectory(store, root, { cacheKey: 'k' });
    const x = store.readTree(next.id)[0]!.xattrs;
    t.deepEqual(
      x?.map(([k, v]) => [Buffer.from(k, 'latin1').toString(), v.toString()]),
      [['user.colour', 'blue']],
    );
  });
});

test('listing errors carry the system error code, from both listers', async (t) => {
  await withTree(async (root) => {
    writeFileSync(join(root, 'file'), 'x');
    for (const [p, code] of [
      [join(root, 'missing'), 'ENOENT'],
      [join(root, 'file'), 'ENOTDIR'],
      [join(root, 'x'.repeat(5000)), 'ENAMETOOLONG'],
    ] as const) {
      const codeOf = (e: unknown): unknown => (e as NodeJS.ErrnoException | undefined)?.code;
      t.is(codeOf(t.throws(() => listDir(Buffer.from(p), false))), code);
      t.is(codeOf(t.throws(() => listDirJs(Buffer.from(p), false))), code);
      t.is(codeOf(await t.throwsAsync(listDirAsync(Buffer.from(p), false))), code);
    }
  });
});

test('listings are matched entry by entry alike by the native helper and in JavaScript', async (t) => {
  await withTree(async (root) => {
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f\xff', 'g']) {
      writeFileSync(Buffer.from(join(root, n), 'latin1'), n);
    }
    mkdirSync(join(root, 'dir'));
    const old = listDir(Buffer.from(root), true);
    writeFileSync(join(root, 'b'), 'changed size'); // changed
    chmodSync(join(root, 'c'), 0o600); // changed mode (and ctime)
    execFileSync('rm', [join(root, 'd')]); // gone
    writeFileSync(join(root, 'aa'), 'new'); // new, between two unchanged
    writeFileSync(join(root, 'zz'), 'new at the end');
    const now = listDir(Buffer.from(root), true);
    const js = matchListingsJs(now, old);
    t.deepEqual(matchListings(now, old), js);
    const pairs = Array.from(js, (j, i) => [now.name(i), j < 0 ? '-' : old.name(j)]);
    t.deepEqual(pairs, [
      ['a', 'a'],
      ['aa', '-'],
      ['b', '-'],
      ['c', '-'],
      ['dir', 'dir'],
      ['e', 'e'],
      ['f\xff', 'f\xff'],
      ['g', 'g'],
      ['zz', '-'],
    ]);
    for (const l of [old, now, listDir(Buffer.from(join(root, 'dir')), true)]) {
      t.is(l.latestMtimeUs(), l.latestMtimeUsJs());
    }
    t.is(listDir(Buffer.from(join(root, 'dir')), true).latestMtimeUs(), -Infinity, 'empty');
    utimesSync(join(root, 'e'), 4102444800.5, 4102444800.5); // in 2100
    t.is(listDir(Buffer.from(root), true).latestMtimeUs(), 4102444800500000);
    t.deepEqual(
      Array.from(matchListings(old, old)),
      Array.from({ length: old.count }, (_, i) => i),
    );
    t.deepEqual(
      Array.from(matchListings(now, listDir(Buffer.from(join(root, 'dir')), true))),
      new Array<number>(now.count).fill(-1),
    );
  });
});

let clock = Date.now() / 1000 - 3600;
/** A distinct time well in the past: what a change made a while ago looks like. */
function aged(p: string): void {
  clock += 1;
  utimesSync(p, clock, clock);
}

/** Let the ctimes just set (by utimes itself) fall behind the racy window of the next scan. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 250));

test('property: a scan with the cache makes the tree a scan without one makes', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(change, { maxLength: 4 }), { minLength: 1, maxLength: 5 }),
      async (rounds) => {
        runs++;
        await withTree(async (root, store) => {
          for (const d of ['a', 'a/x', 'a/x/y', 'b', 'c']) mkdirSync(join(root, d));
          for (const [i, d] of ['', 'a', 'a/x', 'a/x/y', 'b', 'b', 'c'].entries()) {
            writeFileSync(join(root, d, `f${i}`), `file ${i}`);
          }
          for (const p of walk(root).files) aged(p);
          let n = 0;
          await scanDirectory(store, root, { cacheKey: 'k' });
          for (const round of rounds) {
            for (const c of round) applyChange(root, c, (clock += 1));
            const cached = await scanDirectory(store, root, { cacheKey: 'k' });
            const fresh = await scanDirectory(store, root, { cacheKey: `fresh${n++}` });
            t.deepEqual(flat(store, cached.id), flat(store, fresh.id));
            t.is(cached.id, fresh.id);
            t.is(cached.files, fresh.files);
            t.is(cached.bytes, fresh.bytes);
          }
        });
      },
    ),
    { numRuns: 30, seed: 20261125 },
  );
  t.is(runs, 30);
});

test('an unchanged directory is not looked into, but a change deep below it is found', async (t) => {
  await withTree(async (root, store) => {
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    for (const d of ['', 'a', 'a/b', 'a/b/c']) writeFileSync(join(root, d, 'f'), `in ${d}`);
    for (const p of walk(root).files) aged(p);
    await settle();
    const first = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(first.hashedFiles, 4);
    // In place, same size: the directory listings above it do not change, the file's does.
    writeFileSync(join(root, 'a/b/c/f'), 'in A/b/c');
    aged(join(root, 'a/b/c/f'));
    await settle();
    const next = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(next.hashedFiles, 1);
    t.is(next.files, 4);
    const leaf = flat(store, next.id).find((l) => l.startsWith('a/b/c/f '))!;
    t.true(leaf.endsWith(hashBytes(Buffer.from('in A/b/c'))));
  });
});

test('fsck --repair makes the scan cache forget, so the next snapshot is complete', async (t) => {
  await withTree(async (root, store) => {
    writeFileSync(join(root, 'f'), 'small content');
    aged(join(root, 'f'));
    await scanDirectory(store, root, { cacheKey: 'k' });
    const id = hashBytes(Buffer.from('small content'));
    // Damage the blob as a disk would; fsck --repair moves it to quarantine.
    await store.dropRecord('blob', id);
    await store.putBlob(Buffer.from('damaged bytes')); // unrelated write: the store stays usable
    await fsck(store, { repair: true });
    const again = await scanDirectory(store, root, { cacheKey: 'k' });
    t.is(again.hashedFiles, 1, 'read again, not vouched for by the cache');
    t.true(store.hasBlob(id));
  });
});

test('stamp scans: ids a known tree can lend reach entries the cache vouches for', async (t) => {
  await withTree(async (root, store) => {
    mkdirSync(join(root, 'same'));
    mkdirSync(join(root, 'changed'));
    for (const n of ['same/a', 'changed/a', 'changed/b']) writeFileSync(join(root, n), n);
    for (const p of walk(root).files) aged(p);
    const cache = store.cacheDb('known-test');
    // Recorded with stamps only; then one file changes, and a hashed tree becomes known.
    await scanReplica(store, root, { content: 'stamp', cache });
    writeFileSync(join(root, 'changed/b'), 'changed');
    aged(join(root, 'changed/b'));
    const known = [await scanReplica(store, root, { content: 'hash' })];
    const withCache = await scanReplica(store, root, { content: 'stamp', known, cache });
    const without = await scanReplica(store, root, { content: 'stamp', known });
    t.is(withCache, without);
    const ids = (dir: string) => {
      const d = store.readTree(withCache).find((e) => e.name === dir);
      if (d?.kind !== 'dir' || d.id === undefined) throw new Error(`no ${dir}`);
      return store.readTree(d.id).map((e) => (e.kind === 'file' ? e.id : undefined));
    };
    // Every file's stamp matches the known tree's: each has its id now.
    t.true([...ids('same'), ...ids('changed')].every((id) => id !== undefined));
  });
});

test('stamp scans: with the cache, the same tree as without, as base moves', async (t) => {
  await withTree(async (root, store) => {
    mkdirSync(join(root, 'd'));
    for (const n of ['a', 'b', 'd/c']) writeFileSync(join(root, n), n);
    for (const p of walk(root).files) aged(p);
    const cache = store.cacheDb('stamp-test');
    const hashed = await scanReplica(store, root, { content: 'hash' });
    // base = the hashed tree: a stamp scan takes its ids for unchanged stamps.
    for (const base of [undefined, hashed]) {
      const opts = { content: 'stamp' as const, ...(base === undefined ? {} : { base }) };
      const withCache = await scanReplica(store, root, { ...opts, cache });
      const again = await scanReplica(store, root, { ...opts, cache });
      const without = await scanReplica(store, root, opts);
      t.is(withCache, without);
      t.is(again, without);
    }
    writeFileSync(join(root, 'd/c'), 'changed');
    aged(join(root, 'd/c'));
    const withCache = await scanReplica(store, root, { content: 'stamp', base: hashed, cache });
    const without = await scanReplica(store, root, { content: 'stamp', base: hashed });
    t.is(withCache, without);
  });
});

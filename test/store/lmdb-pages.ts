// A store whose LMDB file has every kind of page (branch, leaf and overflow pages in several
// named databases), compacted so that every page after the two meta pages is live, and a
// reading of its pages' headers, to damage one of a kind on purpose.
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { mulberry32 } from '../../bench/lib/gentree.js';
import { Store } from '../../src/store/store.js';

export const P_BRANCH = 0x01;
export const P_LEAF = 0x02;
export const P_OVERFLOW = 0x04;

/** A store in `dir` with `n` small blobs (a tenth on overflow pages) and records of two layers. */
export async function makeBigStore(dir: string, n: number, seed = 1): Promise<void> {
  const store = await Store.create(dir);
  const rnd = mulberry32(seed);
  try {
    for (let i = 0; i < n; i++) {
      const size = rnd() < 0.9 ? 50 + Math.floor(rnd() * 1500) : 3000 + Math.floor(rnd() * 20_000);
      await store.putBlob(Buffer.alloc(size, `blob ${i} `));
      if (i % 3 === 0) {
        await store.db('notes').put(Buffer.from(`note-${i}`), Buffer.alloc(40 + (i % 700), i));
      }
      if (i % 5 === 0)
        await store.db('marks').put(Buffer.from([i >> 8, i & 0xff]), Buffer.from('x'));
    }
  } finally {
    await store.close();
  }
}

/** Rewrite the store's database compact: every page after the meta pages is then live. */
export async function compact(store: string): Promise<void> {
  const env = open({ path: join(store, 'db'), maxDbs: 64 });
  const to = join(store, 'compact');
  mkdirSync(to);
  try {
    await env.backup(to, true);
  } finally {
    await env.close();
  }
  renameSync(join(to, 'data.mdb'), join(store, 'db', 'data.mdb'));
  rmSync(to, { recursive: true });
}

export interface PageInfo {
  readonly pgno: number;
  readonly flags: number;
  /** Pages it spans (overflow pages), else 1. */
  readonly span: number;
}

/** The pages of a compact file, in order: each a branch, leaf or overflow page (and its span). */
export function pagesOf(file: string): { pageSize: number; lastPage: number; pages: PageInfo[] } {
  const bytes = readFileSync(file);
  const pageSize = bytes.readUInt32LE(0x30);
  const metas = [0, 1].map((i) => bytes.subarray(i * pageSize, i * pageSize + 0xa0));
  const newest = metas[1]!.readBigUInt64LE(0x98) > metas[0]!.readBigUInt64LE(0x98) ? 1 : 0;
  const lastPage = Number(metas[newest]!.readBigUInt64LE(0x90));
  const pages: PageInfo[] = [];
  for (let pgno = 2; pgno <= lastPage;) {
    const flags = bytes.readUInt16LE(pgno * pageSize + 18);
    const span = flags === P_OVERFLOW ? bytes.readUInt32LE(pgno * pageSize + 20) : 1;
    pages.push({ pgno, flags, span });
    pgno += span;
  }
  return { pageSize, lastPage, pages };
}

// Checking a store's LMDB trees before LMDB opens them (lmdb-walk.ts walks them): at every
// open, and in full by fsck, which can also rebuild a damaged database (lmdb-salvage.ts).
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { TetherError } from '../errors.js';
import { checkMetaPages, damagedDb, DB, META_BYTES, OFF, readMetaPages } from './lmdb-header.js';
import {
  TreeDamage,
  walkSnapshot,
  type PageReader,
  type Snapshot,
  type WalkOptions,
} from './lmdb-walk.js';

/** The newest snapshot's meta page as the walk needs it (both were checked by lmdb-header). */
function readSnapshot(fd: number): Snapshot | undefined {
  const metas = readMetaPages(fd);
  if (metas === undefined) return undefined;
  const { size, pageSize, first, second } = metas;
  // LMDB's choice (mdb_pick_meta without MDB_PREVSNAPSHOT): the higher txn id, page 0 on a tie.
  const newer =
    second.length === META_BYTES &&
    second.readBigUInt64LE(OFF.txnid) > first.readBigUInt64LE(OFF.txnid);
  const m = newer ? second : first;
  return {
    pageSize,
    filePages: Math.floor(size / pageSize),
    lastPage: Number(m.readBigUInt64LE(OFF.lastPg)),
    txnid: m.readBigUInt64LE(OFF.txnid),
    free: m.subarray(OFF.dbs, OFF.dbs + DB.size),
    main: m.subarray(OFF.dbs + DB.size, OFF.dbs + 2 * DB.size),
  };
}

function pageReader(fd: number, pageSize: number): PageReader {
  return (pgno, into) => {
    const got = readSync(fd, into, 0, into.length, pgno * pageSize);
    if (got < into.length) into.fill(0, got);
  };
}

/** How many times the walk starts again when a writer commits meanwhile. */
const ATTEMPTS = 5;

/**
 * Throws EDAMAGED when a meta page (checkMetaPages) or a B-tree page of the environment in
 * `<dir>/db` is damaged. Another process may be writing meanwhile (the walk holds no read
 * transaction, so a writer may reuse pages of the snapshot it reads once two newer ones are
 * committed): damage counts only when the newest snapshot is still the one walked. A store
 * that keeps changing under the walk is not judged (LMDB's own readers see whole snapshots).
 * Returns the pages walked (leaf pages not read are counted).
 */
export function checkLmdbTrees(dir: string, mode: 'open' | 'full'): number {
  let fd: number;
  try {
    fd = openSync(join(dir, 'db', 'data.mdb'), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    checkMetaPages(dir, fd);
    // Damage counts once two walks of one snapshot found it (a meta page read while a writer
    // wrote it could have named a root that was never written with it).
    let suspect: bigint | undefined;
    for (let attempt = 1; ; attempt++) {
      const snap = readSnapshot(fd);
      if (snap === undefined) return 0;
      try {
        // At open only the branch pages and the main database are walked (a few pages, no
        // measurable cost); a full walk reads every page, about 0.1 ms each (55 ms of CPU for a
        // 2 MB store, 0.45 s on a 100,000-record one: see bench/fsck-walk.ts), so only fsck does.
        const leaves = mode === 'full';
        return walkSnapshot(snap, pageReader(fd, snap.pageSize), { leaves });
      } catch (err) {
        if (!(err instanceof TreeDamage)) throw err;
        const same = readSnapshot(fd)?.txnid === snap.txnid;
        if (same && suspect === snap.txnid) throw damagedTree(dir, err);
        suspect = same ? snap.txnid : undefined;
        if (attempt === ATTEMPTS) return 0;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function damagedTree(dir: string, d: TreeDamage): TetherError {
  return damagedDb(dir, d.message, { db: d.db, page: d.page });
}

/**
 * Walk the newest snapshot gathering what can be read: every sound record goes to `opts`, and
 * the damage found (each damaged page's subtree skipped) is returned. Nothing may write the
 * environment meanwhile.
 */
export function gatherLmdb(dir: string, opts: WalkOptions): TreeDamage[] {
  const fd = openSync(join(dir, 'db', 'data.mdb'), 'r');
  try {
    const snap = readSnapshot(fd);
    const damages: TreeDamage[] = [];
    if (snap !== undefined) {
      walkSnapshot(snap, pageReader(fd, snap.pageSize), { ...opts, damages });
    }
    return damages;
  } finally {
    closeSync(fd);
  }
}

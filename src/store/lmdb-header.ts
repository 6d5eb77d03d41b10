// The LMDB environment's two meta pages, checked before the environment is opened: LMDB
// trusts them (a flipped byte in the page flags or the magic made every command die with
// SIGSEGV, one in a database's flags with MDB_INCOMPATIBLE), so tether reads them first and
// reports a damaged database in words. Two reads of one page each, on every open.
//
// Layout of lmdb-js's LMDB (data format 2), each meta page: a 24-byte page header (page
// number, txn id, pad, flags, lower, upper), then magic, version, fixed map address, map
// size, two database records (free pages, main) of 48 bytes, the last page and the txn id.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TetherError } from '../errors.js';

const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const P_META = 0x08;
const MDB_INTEGERKEY = 0x08;
/** A flag LMDB sets on a database record while it runs (seen on the free-page database). */
const RUNTIME_FLAG = 0x1000;
export const P_INVALID = 0xffffffffffffffffn;
export const META_BYTES = 0xa0;
/** Page sizes LMDB can have chosen (the system's page size when the file was made). */
const PAGE_SIZES = new Set([4096, 8192, 16384, 32768, 65536]);
/** Where the second meta page is when the first cannot say the page size. */
const FALLBACK_PAGE = 4096;

export const OFF = {
  pgno: 0x00,
  flags: 0x12,
  magic: 0x18,
  version: 0x1c,
  address: 0x20,
  mapsize: 0x28,
  dbs: 0x30,
  lastPg: 0x90,
  txnid: 0x98,
} as const;
/** An MDB_db record (48 bytes): in a meta page, and as the value of a named database's node. */
export const DB = {
  pad: 0x00,
  flags: 0x04,
  depth: 0x06,
  pages: 0x08,
  root: 0x28,
  size: 0x30,
} as const;

/** What the store says about a damaged database: where, what, and what to do. */
export function damagedDb(
  dir: string,
  what: string,
  more: Record<string, unknown> = {},
): TetherError {
  return new TetherError(
    'EDAMAGED',
    `the store's database is damaged (${join(dir, 'db', 'data.mdb')}: ${what}); tether did not ` +
      `open it. Run "tether fsck --repair --store ${dir}" to rebuild what can be rebuilt, or ` +
      `restore the store directory from a backup`,
    { dir, what, ...more },
  );
}

/** Why one meta page is not sound, or undefined. `pages`: the file's length in pages. */
function metaProblem(
  m: Buffer,
  index: number,
  pageSize: number,
  pages: bigint,
): string | undefined {
  if (m.length < META_BYTES) return 'the file is cut short';
  if (m.readBigUInt64LE(OFF.pgno) !== BigInt(index)) return 'wrong page number';
  if (m.readUInt16LE(OFF.flags) !== P_META) return 'not marked as a meta page';
  if (m.readUInt32LE(OFF.magic) !== MAGIC) return 'bad magic number';
  if (m.readUInt32LE(OFF.version) !== DATA_VERSION) return 'unknown data format version';
  if (m.readBigUInt64LE(OFF.address) !== 0n) return 'a fixed map address is set';
  const mapsize = m.readBigUInt64LE(OFF.mapsize);
  if (mapsize === 0n || mapsize % BigInt(pageSize) !== 0n) return 'bad map size';
  // The last page may lie past the end of the file: LMDB counts pages it allocated and freed
  // again in one transaction (never written) and leaves the file short of them. So the last
  // page is held to the map, and the roots, which every commit writes, to the file.
  const lastPg = m.readBigUInt64LE(OFF.lastPg);
  if (lastPg < 1n || lastPg >= mapsize / BigInt(pageSize)) return 'last page beyond the map';
  for (const [i, flags] of [
    [0, MDB_INTEGERKEY],
    [1, 0],
  ] as const) {
    const db = OFF.dbs + i * DB.size;
    if (i === 0 && m.readUInt32LE(db + DB.pad) !== pageSize) return 'page sizes disagree';
    if ((m.readUInt16LE(db + DB.flags) & ~RUNTIME_FLAG) !== flags) {
      return `bad flags of database ${i}`;
    }
    const depth = m.readUInt16LE(db + DB.depth);
    const root = m.readBigUInt64LE(db + DB.root);
    if (
      root === P_INVALID ? depth !== 0 : depth === 0 || depth > 32 || root > lastPg || root >= pages
    ) {
      return `bad root of database ${i}`;
    }
    let used = 0n;
    for (let k = 0; k < 3; k++) used += m.readBigUInt64LE(db + DB.pages + k * 8);
    if (used > lastPg + 1n) return `bad page counts of database ${i}`;
  }
  return undefined;
}

/** The two meta pages of the data file open at `fd` (the second as far as the file holds it). */
export interface MetaPages {
  readonly size: number;
  readonly pageSize: number;
  readonly first: Buffer;
  readonly second: Buffer;
}

/** Reads the meta pages; undefined for an empty file (a store LMDB has not written yet). */
export function readMetaPages(fd: number): MetaPages | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  const first = Buffer.alloc(META_BYTES);
  readSync(fd, first, 0, META_BYTES, 0);
  const pageSize = first.readUInt32LE(OFF.dbs + DB.pad);
  const second = Buffer.alloc(META_BYTES);
  const got = PAGE_SIZES.has(pageSize) ? readSync(fd, second, 0, META_BYTES, pageSize) : 0;
  return { size, pageSize, first, second: second.subarray(0, got) };
}

/** Throws EDAMAGED when a meta page of the data file open at `fd` is one LMDB would misread. */
export function checkMetaPages(dir: string, fd: number): void {
  const m = readMetaPages(fd);
  if (m === undefined) return;
  if (!PAGE_SIZES.has(m.pageSize)) throw damagedDb(dir, 'meta page 0: bad page size');
  const pages = BigInt(Math.floor(m.size / m.pageSize));
  for (const [i, page] of [m.first, m.second].entries()) {
    const why = metaProblem(page, i, m.pageSize, pages);
    if (why !== undefined) throw damagedDb(dir, `meta page ${i}: ${why}`);
  }
}

/**
 * Throws EDAMAGED when the environment in `<dir>/db` has a meta page LMDB would misread. No
 * data file yet (a new store) is fine.
 */
export function checkLmdbHeader(dir: string): void {
  let fd: number;
  try {
    fd = openSync(join(dir, 'db', 'data.mdb'), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    checkMetaPages(dir, fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * fsck --repair: when one meta page is damaged and the other is sound, the sound one is
 * copied over it (LMDB keeps the pages of the last two transactions intact, so the sound
 * one's tree is whole; at worst the last transaction is lost). Returns what was done, or
 * undefined when there was nothing to do; throws when both are damaged.
 */
export function repairLmdbHeader(dir: string): string | undefined {
  try {
    checkLmdbHeader(dir);
    return undefined;
  } catch (err) {
    if (!(err instanceof TetherError) || err.code !== 'EDAMAGED') throw err;
  }
  const fd = openSync(join(dir, 'db', 'data.mdb'), 'r+');
  try {
    const size = fstatSync(fd).size;
    let pageSize = 0;
    for (const at of [0, FALLBACK_PAGE]) {
      const probe = Buffer.alloc(META_BYTES);
      readSync(fd, probe, 0, META_BYTES, at);
      const ps = probe.readUInt32LE(OFF.dbs + DB.pad);
      if (PAGE_SIZES.has(ps) && pageSize === 0) pageSize = ps;
    }
    if (pageSize === 0) throw damagedDb(dir, 'no meta page gives a page size');
    const pages: Buffer[] = [];
    const problems: (string | undefined)[] = [];
    for (const i of [0, 1]) {
      const page = Buffer.alloc(pageSize);
      readSync(fd, page, 0, pageSize, i * pageSize);
      pages.push(page);
      problems.push(metaProblem(page, i, pageSize, BigInt(Math.floor(size / pageSize))));
    }
    const good = problems.findIndex((p) => p === undefined);
    const bad = problems.findIndex((p) => p !== undefined);
    if (good < 0) throw damagedDb(dir, 'both meta pages are damaged; restore from a backup');
    const copy = Buffer.from(pages[good]!);
    copy.writeBigUInt64LE(BigInt(bad), OFF.pgno);
    writeSync(fd, copy, 0, pageSize, bad * pageSize);
    fsyncSync(fd);
    return `meta page ${bad} (${problems[bad]!}) was rebuilt from meta page ${good}`;
  } finally {
    closeSync(fd);
  }
}

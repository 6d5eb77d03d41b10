// The layout of the pages of lmdb-js's LMDB (data format 2, without its encryption or page
// checksums, which tether does not turn on), from its mdb.c: every page starts with a 24-byte
// header (page number, txn id, pad, flags, then lower and upper bounds of the free space or,
// on an overflow page, its page count). Branch and leaf pages have 2-byte node offsets after
// the header, counted from the header's end; a node is lo, hi, flags, key size (2 bytes
// each), the key, then on a leaf the data (a 24-byte MDB_ovpage record when the data is on
// overflow pages, a 48-byte MDB_db record when the node is a named database), and on a branch
// page lo, hi and flags make the child's page number.

export const HDR = 24;
export const NODE = 8;
export const OVPAGE = 24;
export const P_BRANCH = 0x01;
export const P_LEAF = 0x02;
export const P_OVERFLOW = 0x04;
export const P_LEAF2 = 0x20;
export const P_SUBP = 0x40;
export const F_BIGDATA = 0x01;
export const F_SUBDATA = 0x02;
export const F_DUPDATA = 0x04;
export const MDB_REVERSEKEY = 0x02;
export const MDB_DUPSORT = 0x04;
export const MDB_INTEGERKEY = 0x08;
export const MDB_DUPFIXED = 0x10;
export const MDB_INTEGERDUP = 0x20;
export const MDB_REVERSEDUP = 0x40;
/** The flags a database record may carry (LMDB's VALID_FLAGS that persist, with lmdb-js's 0x100). */
export const DB_FLAGS = 0x17e;
/** LMDB's cursor stack: no tree may be deeper. */
export const MAX_DEPTH = 32;

/** What the walk found wrong: in which database, on which page. */
export class TreeDamage extends Error {
  constructor(
    readonly db: string,
    readonly page: number | undefined,
    readonly what: string,
  ) {
    super(`database ${db}${page === undefined ? '' : `, page ${page}`}: ${what}`);
  }
}

export function memOrder(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/** LMDB's integer keys: unsigned, native (little) endian, all of one size. */
export function intOrder(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Number.NaN;
  for (let i = a.length - 1; i >= 0; i--) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

// A structural walk of the LMDB data file, made before LMDB is let near it. lmdb-js does not
// expose LMDB's page checksums, and LMDB trusts every page it reads: a flipped byte in a branch
// or leaf page (a node offset, a key size, a child's page number) made it read outside the
// page or the file and kill the process with SIGSEGV or SIGBUS, or abort on an assertion. So
// tether reads the newest snapshot's B-trees itself, every database's from its root, and stops
// at the first page that LMDB would misread, naming the database and the page (fsck --repair's
// rebuild walks on past damage instead, skipping each damaged page's subtree). lmdb-layout.ts
// describes the pages; lmdb-trees.ts reads the file.
import { DB, P_INVALID } from './lmdb-header.js';
import {
  DB_FLAGS,
  F_BIGDATA,
  F_DUPDATA,
  F_SUBDATA,
  HDR,
  intOrder,
  MAX_DEPTH,
  MDB_DUPFIXED,
  MDB_DUPSORT,
  MDB_INTEGERDUP,
  MDB_INTEGERKEY,
  MDB_REVERSEDUP,
  MDB_REVERSEKEY,
  memOrder,
  NODE,
  OVPAGE,
  P_BRANCH,
  P_LEAF,
  P_LEAF2,
  P_OVERFLOW,
  P_SUBP,
  TreeDamage,
} from './lmdb-layout.js';

export { TreeDamage } from './lmdb-layout.js';

/** How damage to LMDB's own list of free pages is named. */
export const FREE_PAGES = '(free pages)';

/** Reads page `pgno`'s first `into.length` bytes into `into` (zeros past the file's end). */
export type PageReader = (pgno: number, into: Buffer) => void;

/** How a tree's keys are ordered, and what its records may hold. */
interface Tree {
  readonly name: string;
  /** The named database's own name ('' for the main database). */
  readonly id: string;
  /** The database record's flags. */
  readonly flags: number;
  readonly order: ((a: Buffer, b: Buffer) => number) | undefined;
  readonly depth: number;
  /** The main database: its F_SUBDATA nodes are named databases. */
  readonly main: boolean;
  readonly free: boolean;
  readonly dupsort: boolean;
  /** Flags of the database whose duplicates this tree holds (a dup tree), else undefined. */
  readonly dupFlags: number | undefined;
  /** Key size of LEAF2 pages (MDB_DUPFIXED dup trees). */
  readonly fixed: number;
}

export interface Snapshot {
  readonly pageSize: number;
  /** Pages the file holds. */
  readonly filePages: number;
  readonly lastPage: number;
  readonly txnid: bigint;
  /** The free-page database's and the main database's records (48 bytes each). */
  readonly free: Buffer;
  readonly main: Buffer;
}

export interface WalkOptions {
  /** false: leaf pages of the databases other than the main one are counted, not read. */
  readonly leaves?: boolean;
  /** Given, damage is gathered here and the damaged page's subtree skipped, not thrown. */
  readonly damages?: TreeDamage[];
  /** Each named database, with its record, before its tree is walked. */
  readonly onDatabase?: (name: string, rec: Buffer) => void;
  /** Each record of a sound leaf page of a named database ('' for the main one's own). */
  readonly onRecord?: (db: string, key: Buffer, value: Buffer) => void;
}

/** Walk the snapshot's trees; throws TreeDamage at the first damage. Returns pages visited. */
export function walkSnapshot(snap: Snapshot, read: PageReader, opts: WalkOptions = {}): number {
  const walker = new Walker(snap, read, opts);
  walker.database(FREE_PAGES, snap.free, { free: true });
  walker.database('(main)', snap.main, { main: true });
  return walker.pages;
}

class Walker {
  private readonly seen: Uint8Array;
  private readonly usable: number;
  /** One page buffer per level of each tree being walked (a named database's walk runs inside
   * the main database's, a dup tree's inside its database's): no page is read twice. */
  private readonly buffers: Buffer[] = [];
  private readonly header = Buffer.alloc(HDR);
  private nest = 0;
  pages = 0;

  constructor(
    private readonly snap: Snapshot,
    private readonly read: PageReader,
    private readonly opts: WalkOptions,
  ) {
    this.seen = new Uint8Array(snap.filePages);
    this.usable = snap.pageSize - HDR;
  }

  private buffer(level: number): Buffer {
    const i = this.nest * (MAX_DEPTH + 1) + level;
    return (this.buffers[i] ??= Buffer.alloc(this.snap.pageSize));
  }

  /** Walk the tree a database record describes. */
  database(
    name: string,
    rec: Buffer,
    kind: { main?: boolean; free?: boolean; dupOf?: number; id?: string },
  ): void {
    try {
      this.tree(name, rec, kind);
    } catch (err) {
      if (!this.tolerated(err)) throw err;
    }
  }

  /** Damage is gathered (and the subtree skipped) when the caller asked for that. */
  private tolerated(err: unknown): boolean {
    if (!(err instanceof TreeDamage) || this.opts.damages === undefined) return false;
    this.opts.damages.push(err);
    return true;
  }

  private tree(
    name: string,
    rec: Buffer,
    kind: { main?: boolean; free?: boolean; dupOf?: number; id?: string },
  ): void {
    const flags = rec.readUInt16LE(DB.flags);
    const depth = rec.readUInt16LE(DB.depth);
    const root = rec.readBigUInt64LE(DB.root);
    const dup = kind.dupOf !== undefined;
    if (!kind.free && !kind.main && (flags & ~DB_FLAGS) !== 0) {
      throw new TreeDamage(name, undefined, `its record has bad flags 0x${flags.toString(16)}`);
    }
    if (root === P_INVALID) {
      if (depth !== 0) throw new TreeDamage(name, undefined, 'an empty tree with a depth');
      return;
    }
    if (depth === 0 || depth > MAX_DEPTH) {
      throw new TreeDamage(name, undefined, `its record has a bad depth ${depth}`);
    }
    // A dup tree's keys are the data items, ordered by the data flags of its database.
    const f = kind.dupOf ?? flags;
    const reverse = dup ? MDB_REVERSEDUP : MDB_REVERSEKEY;
    const integer = dup ? MDB_INTEGERDUP : MDB_INTEGERKEY;
    const tree: Tree = {
      name,
      id: kind.id ?? '',
      flags,
      order: (f & reverse) !== 0 ? undefined : (f & integer) !== 0 ? intOrder : memOrder,
      depth,
      main: kind.main === true,
      free: kind.free === true,
      dupsort: !dup && (flags & MDB_DUPSORT) !== 0,
      dupFlags: dup ? kind.dupOf : undefined,
      fixed: dup && (f & MDB_DUPFIXED) !== 0 ? rec.readUInt32LE(DB.pad) : 0,
    };
    this.nest++;
    try {
      this.page(tree, this.pgno(tree, root, 'its root'), 1, undefined, undefined);
    } finally {
      this.nest--;
    }
  }

  /** A page number read from the file, held to the file and the snapshot's last page. */
  private pgno(tree: Tree, n: bigint, what: string, at?: number): number {
    const last = BigInt(this.snap.lastPage);
    if (n >= BigInt(this.snap.filePages) || n > last) {
      const past = n > last ? `the last page (${last})` : 'the end of the file';
      throw new TreeDamage(tree.name, at, `${what} is page ${n}, past ${past}`);
    }
    return Number(n);
  }

  private visit(tree: Tree, pgno: number, from: number | undefined): void {
    if (pgno < 2) throw new TreeDamage(tree.name, from, `a child is meta page ${pgno}`);
    if (this.seen[pgno] === 1) {
      throw new TreeDamage(tree.name, pgno, 'the page is reached twice');
    }
    this.seen[pgno] = 1;
    this.pages++;
  }

  /** One branch or leaf page at `level` (the root is 1), its keys within [lo, hi). */
  private page(
    tree: Tree,
    pgno: number,
    level: number,
    lo: Buffer | undefined,
    hi: Buffer | undefined,
  ): void {
    this.visit(tree, pgno, undefined);
    const leaf = level === tree.depth;
    if (leaf && this.opts.leaves === false && !tree.main) return;
    const p = this.buffer(level);
    this.read(pgno, p);
    const bad = (what: string): TreeDamage => new TreeDamage(tree.name, pgno, what);
    if (p.readBigUInt64LE(0) !== BigInt(pgno)) {
      throw bad(`the page says it is page ${p.readBigUInt64LE(0)}`);
    }
    if (p.readBigUInt64LE(8) > this.snap.txnid) throw bad('its txn id is in the future');
    const flags = p.readUInt16LE(18);
    const want = !leaf ? P_BRANCH : tree.fixed > 0 ? P_LEAF | P_LEAF2 : P_LEAF;
    if (flags !== want) {
      throw bad(
        `its flags are 0x${flags.toString(16)} where a ${leaf ? 'leaf' : 'branch'} page ` +
          `(0x${want.toString(16)}) belongs at depth ${level} of ${tree.depth}`,
      );
    }
    const lower = p.readUInt16LE(20);
    const upper = p.readUInt16LE(22);
    if (lower % 2 !== 0 || lower > upper || upper > this.usable) {
      throw bad(`its free-space bounds (${lower}, ${upper}) are impossible`);
    }
    const n = lower / 2;
    if (tree.fixed > 0) {
      this.leaf2(tree, p, n, lo, hi, bad);
      return;
    }
    if (leaf ? n === 0 && level > 1 : n < (tree.free ? 1 : 2)) {
      throw bad(`it holds ${n} nodes`);
    }
    let prev: Buffer | undefined;
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    const children: number[] = [];
    let used = 0;
    for (let i = 0; i < n; i++) {
      const off = p.readUInt16LE(HDR + 2 * i);
      if (off % 2 !== 0 || off < upper || off + NODE > this.usable) {
        throw bad(`node ${i} lies at ${off}, outside the page's nodes`);
      }
      const at = HDR + off;
      const ksize = p.readUInt16LE(at + 6);
      const kend = at + NODE + ksize;
      if (kend > p.length) throw bad(`node ${i}'s key runs past the page`);
      const key = p.subarray(at + NODE, kend);
      const dsize = p.readUInt16LE(at) + p.readUInt16LE(at + 2) * 0x10000;
      const inline = !leaf ? 0 : (p.readUInt16LE(at + 4) & F_BIGDATA) !== 0 ? OVPAGE : dsize;
      used += NODE + ksize + inline + ((ksize + inline) % 2);
      if (leaf) {
        const value = this.record(tree, p, pgno, i, at, kend, key, bad);
        if (value !== undefined) values.push(key, value);
      } else
        children.push(
          p.readUInt16LE(at) + p.readUInt16LE(at + 2) * 0x10000 + p.readUInt16LE(at + 4) * 2 ** 32,
        );
      // A branch page's first key is not used (it may be empty).
      if (!leaf && i === 0) {
        keys.push(key);
        continue;
      }
      if (tree.order !== undefined) {
        const o = tree.order;
        if (prev !== undefined && !(o(prev, key) < 0)) throw bad(`node ${i}'s key is out of order`);
        if (lo !== undefined && !(o(lo, key) <= 0))
          throw bad(`node ${i}'s key is below its branch`);
        if (hi !== undefined && !(o(key, hi) < 0)) throw bad(`node ${i}'s key is above its branch`);
      }
      prev = key;
      keys.push(key);
    }
    // LMDB keeps a page's nodes packed at its end (each an even number of bytes).
    if (used !== this.usable - upper) {
      throw bad(`its nodes take ${used} bytes where its bounds leave ${this.usable - upper}`);
    }
    // Records reach the caller only once their whole page is sound.
    for (let i = 0; i < values.length; i += 2) {
      this.opts.onRecord?.(tree.id, values[i]!, values[i + 1]!);
    }
    for (const [i, child] of children.entries()) {
      try {
        const c = this.pgno(tree, BigInt(child), `node ${i}'s child`, pgno);
        this.page(tree, c, level + 1, i === 0 ? lo : keys[i], i === n - 1 ? hi : keys[i + 1]);
      } catch (err) {
        if (!this.tolerated(err)) throw err;
      }
    }
  }

  /**
   * A leaf node's data: inline, on overflow pages, a named database or duplicates. Returns the
   * value of a plain record when the caller gathers records.
   */
  private record(
    tree: Tree,
    p: Buffer,
    pgno: number,
    i: number,
    at: number,
    kend: number,
    key: Buffer,
    bad: (what: string) => TreeDamage,
  ): Buffer | undefined {
    const size = p.readUInt16LE(at) + p.readUInt16LE(at + 2) * 0x10000;
    const flags = p.readUInt16LE(at + 4);
    const allowed = tree.main
      ? F_BIGDATA | F_SUBDATA
      : tree.dupsort
        ? F_BIGDATA | F_SUBDATA | F_DUPDATA
        : F_BIGDATA;
    if (
      (flags & ~allowed) !== 0 ||
      (flags & F_BIGDATA && flags & (F_SUBDATA | F_DUPDATA)) !== 0 ||
      (tree.dupsort && (flags & F_SUBDATA) !== 0 && (flags & F_DUPDATA) === 0)
    ) {
      throw bad(`node ${i} has bad flags 0x${flags.toString(16)}`);
    }
    if (tree.dupFlags !== undefined && size !== 0) throw bad(`node ${i} of a dup tree has data`);
    const inline = (flags & F_BIGDATA) !== 0 ? OVPAGE : size;
    if (kend + inline > p.length) throw bad(`node ${i}'s data runs past the page`);
    const data = p.subarray(kend, kend + inline);
    const gather = this.opts.onRecord !== undefined && !tree.free && tree.dupFlags === undefined;
    if ((flags & F_BIGDATA) !== 0) {
      const first = this.overflow(tree, pgno, i, size, data);
      if (!gather) return undefined;
      const all = Buffer.alloc(HDR + size);
      this.read(first, all);
      return all.subarray(HDR);
    }
    if ((flags & F_SUBDATA) !== 0) {
      if (size !== DB.size) throw bad(`node ${i}'s database record has ${size} bytes`);
      if (!tree.main) {
        this.database(`${tree.name} (duplicates)`, data, { dupOf: tree.flags });
        return undefined;
      }
      // lmdb-js names a database by its name's C string, the terminating NUL included.
      const id = key.toString('utf8').replace(/\0$/, '');
      this.opts.onDatabase?.(id, data);
      this.database(JSON.stringify(id), data, { id });
      return undefined;
    }
    if ((flags & F_DUPDATA) !== 0) {
      this.subpage(tree, pgno, i, data);
      return undefined;
    }
    if (tree.free && (size < 8 || size % 8 !== 0)) {
      throw bad(`free-page record ${i} has ${size} bytes`);
    }
    return gather ? data : undefined;
  }

  /** Data on overflow pages: the pages lie in the file, their header says so, the data fits. */
  private overflow(tree: Tree, from: number, i: number, size: number, ov: Buffer): number {
    const bad = (what: string): TreeDamage => new TreeDamage(tree.name, from, `node ${i}: ${what}`);
    const first = this.pgno(tree, ov.readBigUInt64LE(0), `node ${i}'s overflow page`, from);
    const count = ov.readBigUInt64LE(16);
    if (
      count === 0n ||
      BigInt(first) + count > BigInt(Math.min(this.snap.filePages, this.snap.lastPage + 1))
    ) {
      throw bad(`its ${count} overflow pages from page ${first} run past the file`);
    }
    const n = Number(count);
    if (size > n * this.snap.pageSize - HDR)
      throw bad(`${size} bytes do not fit its ${n} overflow pages`);
    for (let k = 0; k < n; k++) this.visit(tree, first + k, from);
    const h = this.header;
    this.read(first, h);
    const own = (what: string): TreeDamage => new TreeDamage(tree.name, first, what);
    if (h.readBigUInt64LE(0) !== BigInt(first))
      throw own(`the page says it is page ${h.readBigUInt64LE(0)}`);
    if (h.readBigUInt64LE(8) > this.snap.txnid) throw own('its txn id is in the future');
    if (h.readUInt16LE(18) !== P_OVERFLOW) {
      throw own(
        `its flags are 0x${h.readUInt16LE(18).toString(16)} where an overflow page belongs`,
      );
    }
    if (h.readUInt32LE(20) !== n)
      throw own(`it counts ${h.readUInt32LE(20)} pages where its node says ${n}`);
    return first;
  }

  /** Duplicates kept inside the node: a small leaf page of their own. */
  private subpage(tree: Tree, from: number, i: number, sp: Buffer): void {
    const bad = (what: string): TreeDamage =>
      new TreeDamage(tree.name, from, `node ${i}'s duplicates: ${what}`);
    if (sp.length < HDR) throw bad('too short');
    const flags = sp.readUInt16LE(18);
    if ((flags & ~P_LEAF2) !== (P_LEAF | P_SUBP)) throw bad(`bad flags 0x${flags.toString(16)}`);
    const lower = sp.readUInt16LE(20);
    const upper = sp.readUInt16LE(22);
    if (lower % 2 !== 0 || lower > upper || upper > sp.length - HDR) throw bad('impossible bounds');
    if ((flags & P_LEAF2) !== 0) return;
    for (let k = 0; k < lower / 2; k++) {
      const off = sp.readUInt16LE(HDR + 2 * k);
      if (off < upper || HDR + off + NODE > sp.length) throw bad(`item ${k} lies outside`);
      if (HDR + off + NODE + sp.readUInt16LE(HDR + off + 6) > sp.length)
        throw bad(`item ${k} runs past`);
    }
  }

  /** A page of fixed-size duplicates: keys packed after the header, no nodes. */
  private leaf2(
    tree: Tree,
    p: Buffer,
    n: number,
    lo: Buffer | undefined,
    hi: Buffer | undefined,
    bad: (what: string) => TreeDamage,
  ): void {
    if (p.readUInt16LE(16) !== tree.fixed || tree.fixed === 0)
      throw bad('its key size disagrees with its database');
    if (HDR + n * tree.fixed > p.length || n === 0) throw bad(`its ${n} keys do not fit`);
    const o = tree.order;
    if (o === undefined) return;
    let prev = lo;
    for (let i = 0; i < n; i++) {
      const key = p.subarray(HDR + i * tree.fixed, HDR + (i + 1) * tree.fixed);
      if (prev !== undefined && !(i === 0 ? o(prev, key) <= 0 : o(prev, key) < 0))
        throw bad(`key ${i} is out of order`);
      prev = key;
    }
    if (hi !== undefined && prev !== undefined && !(o(prev, hi) < 0))
      throw bad('a key is above its branch');
  }
}

// Canonical tree encoding: plain msgpack (no records, no extensions), one fixed-shape array
// per entry, entries sorted by name bytes. Equal listings therefore have equal bytes, and a
// tree id (BLAKE3 of those bytes) says "this whole subtree is the same".
//
//   tree  = [1, [entry...]]
//   entry = [name: bin, kind: uint, mode, uid, gid, size, mtimeSec: int, mtimeNsec: uint,
//            id: bin32|nil, target: bin|nil, rdev: uint|nil, xattrs: [[bin, bin]...]|nil,
//            (link: bin)]
//
// The 13th element, a file's hard-link group key (entry.ts), is there only when the entry has
// one: an entry without it keeps its 12-element form, so every tree written before the field
// existed decodes and hashes as it did. A present but empty or nil key is rejected (it would
// be a second encoding of the same entry).
import { TetherError } from '../errors.js';
import { display } from './bytes.js';
import { KINDS, type Entry, type Kind, type Tree, type TreeReader, type Xattr } from './entry.js';
import { hashBytes, HASH_BYTES, type Hash } from './hash.js';
import { checkName } from './name.js';

const FORMAT = 1;
const NS = 1_000_000_000n;
const kindCode = new Map<Kind, number>(KINDS.map((k, i) => [k, i]));

// The encoder writes msgpack by hand for this one shape (trees are encoded and decoded on every
// scan of a changed directory). Numbers take the smallest msgpack form as common encoders do:
// fixint, uint8/16/32, negative fixint, int8/16/32, and float64 beyond 32 bits; bytes are
// bin8/16/32; arrays fixarray/array16/array32. The bytes are the canonical form the tree id
// is taken of, so they must never change for the same tree (test/tree checks them against a
// general msgpack encoder).

/** A growing output buffer (one per process, reused: trees are encoded one at a time). */
class Writer {
  buf = Buffer.allocUnsafe(64 * 1024);
  at = 0;
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }
  num(v: number): void {
    this.room(9);
    const b = this.buf;
    if (v >>> 0 === v) {
      if (v < 0x80) b[this.at++] = v;
      else if (v < 0x100) {
        b[this.at++] = 0xcc;
        b[this.at++] = v;
      } else if (v < 0x10000) {
        b[this.at++] = 0xcd;
        this.at = b.writeUInt16BE(v, this.at);
      } else {
        b[this.at++] = 0xce;
        this.at = b.writeUInt32BE(v, this.at);
      }
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[this.at++] = 0x100 + v;
      else if (v >= -0x80) {
        b[this.at++] = 0xd0;
        b[this.at++] = v + 0x100;
      } else if (v >= -0x8000) {
        b[this.at++] = 0xd1;
        this.at = b.writeInt16BE(v, this.at);
      } else {
        b[this.at++] = 0xd2;
        this.at = b.writeInt32BE(v, this.at);
      }
    } else {
      b[this.at++] = 0xcb;
      this.at = b.writeDoubleBE(v, this.at);
    }
  }
  array(n: number): void {
    this.room(5);
    if (n < 0x10) this.buf[this.at++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.at++] = 0xdc;
      this.at = this.buf.writeUInt16BE(n, this.at);
    } else {
      this.buf[this.at++] = 0xdd;
      this.at = this.buf.writeUInt32BE(n, this.at);
    }
  }
  private binHeader(n: number): void {
    this.room(5 + n);
    if (n < 0x100) {
      this.buf[this.at++] = 0xc4;
      this.buf[this.at++] = n;
    } else if (n < 0x10000) {
      this.buf[this.at++] = 0xc5;
      this.at = this.buf.writeUInt16BE(n, this.at);
    } else {
      this.buf[this.at++] = 0xc6;
      this.at = this.buf.writeUInt32BE(n, this.at);
    }
  }
  /** Bytes given as a byte string (latin1). */
  binText(s: string, encoding: 'latin1' | 'hex'): void {
    const n = encoding === 'hex' ? s.length >> 1 : s.length;
    this.binHeader(n);
    this.at += this.buf.write(s, this.at, n, encoding);
  }
  bin(b: Uint8Array): void {
    this.binHeader(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}

const writer = new Writer();

function writeEntry(w: Writer, e: Entry): void {
  const sec = e.mtimeNs >= 0n ? e.mtimeNs / NS : -((-e.mtimeNs + NS - 1n) / NS);
  w.array(e.link === undefined ? 12 : 13);
  w.binText(e.name, 'latin1');
  w.num(kindCode.get(e.kind)!);
  w.num(e.mode);
  w.num(e.uid);
  w.num(e.gid);
  w.num(e.size);
  w.num(Number(sec));
  w.num(Number(e.mtimeNs - sec * NS));
  if (e.id === undefined) w.byte(0xc0);
  else w.binText(e.id, 'hex');
  if (e.target === undefined) w.byte(0xc0);
  else w.binText(e.target, 'latin1');
  if (e.rdev === undefined) w.byte(0xc0);
  else w.num(e.rdev);
  if (e.xattrs === undefined || e.xattrs.length === 0) w.byte(0xc0);
  else {
    w.array(e.xattrs.length);
    for (const [n, v] of e.xattrs) {
      w.array(2);
      w.binText(n, 'latin1');
      w.bin(v);
    }
  }
  if (e.link !== undefined) w.binText(e.link, 'latin1');
}

/** The fields of an entry whose array header is `t` (12, or 13 with a link key); 0 if neither. */
function entryFields(t: number | undefined): number {
  return t === 0x9c ? 12 : t === 0x9d ? 13 : 0;
}

/**
 * One entry of a tree being put together by encodeParts: an entry to encode, the number of an
 * entry of an already encoded tree (its bytes are copied as they are), or nothing.
 */
export type Part = Entry | number | undefined;

/** A tree's encoding and where each of its parts lies in it (see encodeParts). */
export interface EncodedParts {
  readonly bytes: Buffer;
  readonly id: Hash;
  /** Part i's bytes are [spans[2i], spans[2i + 1]); both 0 for a part that is nothing. */
  readonly spans: Uint32Array;
}

/**
 * Encode a tree from its parts, given in canonical order: a directory's listing order, which is
 * the order of name bytes. The order is the caller's to keep (it is not checked here; names of
 * entries to encode are). A number j copies part j of `from`, an encoding this function made,
 * with its spans: an unchanged directory entry costs one copy, not a decode and an encode.
 * Runs of copied parts that lay back to back in `from` are copied at once.
 */
export function encodeParts(
  parts: readonly Part[],
  from?: { readonly bytes: Uint8Array; readonly spans: Uint32Array },
): EncodedParts {
  const w = writer;
  w.at = 0;
  let count = 0;
  for (const p of parts) if (p !== undefined) count++;
  w.array(2);
  w.num(FORMAT);
  w.array(count);
  const spans = new Uint32Array(parts.length * 2);
  let i = 0;
  while (i < parts.length) {
    const p = parts[i];
    if (p === undefined) {
      i++;
    } else if (typeof p === 'number') {
      if (from === undefined) throw new RangeError('encodeParts: a copied part without its tree');
      const start = from.spans[2 * p]!;
      let end = from.spans[2 * p + 1]!;
      const shift = w.at - start;
      spans[2 * i] = w.at;
      spans[2 * i + 1] = end + shift;
      let k = i + 1;
      for (; k < parts.length; k++) {
        const q = parts[k];
        if (typeof q !== 'number' || from.spans[2 * q] !== end) break;
        end = from.spans[2 * q + 1]!;
        spans[2 * k] = from.spans[2 * q]! + shift;
        spans[2 * k + 1] = end + shift;
      }
      // An entry is a 12- or 13-element array: a span that does not start one is not an entry's.
      if (!(start < end && end <= from.bytes.length && entryFields(from.bytes[start]) > 0)) {
        bad(`part ${p} does not lie in the tree it is copied from`);
      }
      w.room(end - start);
      w.buf.set(from.bytes.subarray(start, end), w.at);
      w.at += end - start;
      i = k;
    } else {
      checkName(p.name);
      spans[2 * i] = w.at;
      writeEntry(w, p);
      spans[2 * i + 1] = w.at;
      i++;
    }
  }
  const bytes = w.done();
  return { bytes, id: treeIdOf(bytes), spans };
}

/** Sort a listing into canonical order (by name bytes). Does not check names. */
export function sortTree(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Encode a listing that is already sorted; throws if it is not canonical or a name is unsafe. */
export function encodeTree(tree: Tree): Buffer {
  checkCanonical(tree);
  const w = writer;
  w.at = 0;
  w.array(2);
  w.num(FORMAT);
  w.array(tree.length);
  for (const e of tree) writeEntry(w, e);
  return w.done();
}

/** A tree's encoding from a reader: its own bytes where it keeps them, else encoded anew. */
export function treeBytesOf(reader: TreeReader, id: Hash): Uint8Array {
  return reader.treeBytes?.(id) ?? encodeTree(reader.readTree(id));
}

export function treeIdOf(encoded: Uint8Array): Hash {
  return hashBytes(encoded);
}

function checkCanonical(tree: Tree): void {
  let prev: string | undefined;
  for (const e of tree) {
    checkName(e.name);
    if (prev !== undefined && !(prev < e.name)) {
      throw new TetherError(
        'EBADTREE',
        prev === e.name
          ? `duplicate name ${display(e.name)} in tree`
          : `tree entries out of order at ${display(e.name)}`,
        { name: display(e.name) },
      );
    }
    prev = e.name;
  }
}

function bad(why: string): never {
  throw new TetherError('EBADTREE', `malformed tree encoding: ${why}`);
}

/** Reads the msgpack the encoder writes (any width of number it may meet). */
class Reader {
  at = 0;
  constructor(private readonly b: Buffer) {}
  private need(n: number): void {
    if (this.at + n > this.b.length) bad('truncated');
  }
  private u8(): number {
    this.need(1);
    return this.b[this.at++]!;
  }
  isNil(): boolean {
    this.need(1);
    if (this.b[this.at] !== 0xc0) return false;
    this.at++;
    return true;
  }
  array(): number {
    const t = this.u8();
    if ((t & 0xf0) === 0x90) return t & 0x0f;
    if (t === 0xdc) return this.fixed(2);
    if (t === 0xdd) return this.fixed(4);
    return bad('expected an array');
  }
  private fixed(n: 1 | 2 | 4): number {
    this.need(n);
    const v =
      n === 1
        ? this.b[this.at]!
        : n === 2
          ? this.b.readUInt16BE(this.at)
          : this.b.readUInt32BE(this.at);
    this.at += n;
    return v;
  }
  /** A value of `n` bytes read by `read` at the current position. */
  private take(n: number, read: (at: number) => number): number {
    this.need(n);
    const v = read(this.at);
    this.at += n;
    return v;
  }
  num(): number {
    const t = this.u8();
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 0x100;
    const b = this.b;
    switch (t) {
      case 0xcc:
        return this.fixed(1);
      case 0xcd:
        return this.fixed(2);
      case 0xce:
        return this.fixed(4);
      case 0xcf:
        return this.take(8, (at) => Number(b.readBigUInt64BE(at)));
      case 0xd0:
        return this.take(1, (at) => b.readInt8(at));
      case 0xd1:
        return this.take(2, (at) => b.readInt16BE(at));
      case 0xd2:
        return this.take(4, (at) => b.readInt32BE(at));
      case 0xd3:
        return this.take(8, (at) => Number(b.readBigInt64BE(at)));
      case 0xca:
        return this.take(4, (at) => b.readFloatBE(at));
      case 0xcb:
        return this.take(8, (at) => b.readDoubleBE(at));
      default:
        return bad('expected a number');
    }
  }
  /** Where the last bin's bytes start (they end at \`at\`). */
  start = 0;
  /** Skip over a bin, leaving its bytes between \`start\` and \`at\`; returns its length. */
  bin(): number {
    const t = this.u8();
    const n =
      t === 0xc4
        ? this.fixed(1)
        : t === 0xc5
          ? this.fixed(2)
          : t === 0xc6
            ? this.fixed(4)
            : bad('expected bytes');
    this.need(n);
    this.start = this.at;
    this.at += n;
    return n;
  }
  text(encoding: 'latin1' | 'hex'): string {
    this.bin();
    return this.b.toString(encoding, this.start, this.at);
  }
  bytes(): Buffer {
    this.bin();
    return Buffer.from(this.b.subarray(this.start, this.at));
  }
  end(): boolean {
    return this.at === this.b.length;
  }
  /** Step over one value of any form the encoder writes. */
  skip(): void {
    this.need(1);
    const t = this.b[this.at]!;
    if (t === 0xc0) this.at++;
    else if ((t & 0xf0) === 0x90 || t === 0xdc || t === 0xdd) {
      for (let n = this.array(); n > 0; n--) this.skip();
    } else if (t === 0xc4 || t === 0xc5 || t === 0xc6) this.bin();
    else this.num();
  }
}

function isUint(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** One entry at the reader's position (see decodeTree). */
function readEntry(r: Reader, buf: Buffer): Entry {
  const fields = r.array();
  if (fields !== 12 && fields !== 13) bad('entry is not a 12- or 13-field array');
  const name = r.text('latin1');
  const kc = r.num();
  const kind = KINDS[kc];
  if (!isUint(kc) || kind === undefined) bad('unknown kind');
  const mode = r.num();
  if (!isUint(mode) || mode > 0o7777) bad('bad mode');
  const uid = r.num();
  const gid = r.num();
  const size = r.num();
  if (!isUint(uid) || !isUint(gid) || !isUint(size)) bad('bad uid, gid or size');
  const sec = r.num();
  const nsec = r.num();
  if (!Number.isSafeInteger(sec) || !isUint(nsec) || nsec >= 1e9) bad('bad mtime');
  let id: string | undefined;
  if (!r.isNil()) {
    if (r.bin() !== HASH_BYTES) bad('bad id');
    id = buf.toString('hex', r.start, r.at);
  }
  const target = r.isNil() ? undefined : r.text('latin1');
  let rdev: number | undefined;
  if (!r.isNil()) {
    rdev = r.num();
    if (!isUint(rdev)) bad('bad rdev');
  }
  let xs: Xattr[] | undefined;
  if (!r.isNil()) {
    const xn = r.array();
    if (xn === 0) bad('bad xattrs');
    xs = [];
    for (let j = 0; j < xn; j++) {
      if (r.array() !== 2) bad('bad xattr');
      xs.push([r.text('latin1'), r.bytes()]);
    }
    for (let j = 1; j < xs.length; j++) if (!(xs[j - 1]![0] < xs[j]![0])) bad('xattrs not sorted');
  }
  let link: string | undefined;
  if (fields === 13) {
    if (r.isNil()) bad('a nil link key');
    link = r.text('latin1');
    if (link === '') bad('an empty link key');
    if (kind !== 'file') bad('a link key on an entry that is not a file');
  }
  // Optional fields are set only when present (absent, not undefined); no spreads: trees are
  // decoded on every scan of a changed directory, mostly before the JIT has warmed up.
  const e: { -readonly [K in keyof Entry]: Entry[K] } = {
    name,
    kind,
    mode,
    uid,
    gid,
    size,
    mtimeNs: BigInt(sec) * NS + BigInt(nsec),
  };
  if (id !== undefined) e.id = id;
  if (target !== undefined) e.target = target;
  if (rdev !== undefined) e.rdev = rdev;
  if (xs !== undefined) e.xattrs = xs;
  if (link !== undefined) e.link = link;
  return e;
}

/** Decode and validate: rejects unsorted, duplicate and unsafe names and malformed fields. */
export function decodeTree(bytes: Uint8Array): Entry[] {
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  if (r.array() !== 2 || r.num() !== FORMAT) bad('not a tree of format 1');
  const n = r.array();
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push(readEntry(r, buf));
  if (!r.end()) bad('trailing bytes');
  checkCanonical(out);
  return out;
}

/** The entry encoded in bytes [start, end) of a tree's encoding (a span encodeParts gives). */
export function decodeEntryAt(bytes: Buffer, start: number, end: number): Entry {
  const one = bytes.subarray(start, end);
  const r = new Reader(one);
  const e = readEntry(r, one);
  if (!r.end()) bad('an entry span that is not one entry');
  checkName(e.name);
  return e;
}

/**
 * Where each entry of a tree's encoding lies and where its name lies, four offsets per entry
 * (entry start, entry end, name start, name end), found without decoding.
 */
export function skimEntries(bytes: Buffer): Uint32Array {
  const r = new Reader(bytes);
  if (r.array() !== 2 || r.num() !== FORMAT) bad('not a tree of format 1');
  const n = r.array();
  const at = new Uint32Array(4 * n);
  for (let i = 0; i < n; i++) {
    at[4 * i] = r.at;
    const fields = entryFields(bytes[r.at]);
    if (fields === 0) bad('entry is not a 12- or 13-field array');
    r.array();
    r.bin();
    at[4 * i + 2] = r.start;
    at[4 * i + 3] = r.at;
    for (let f = 1; f < fields; f++) r.skip();
    at[4 * i + 1] = r.at;
  }
  if (!r.end()) bad('trailing bytes');
  return at;
}

/** Where the name of the entry encoded from \`start\` lies in \`bytes\`: [from, to). */
export function entryNameAt(bytes: Buffer, start: number): [number, number] {
  const r = new Reader(bytes);
  r.at = start;
  if (entryFields(bytes[start]) === 0) bad('entry is not a 12- or 13-field array');
  r.array();
  r.bin();
  return [r.start, r.at];
}

/** The entry encoded from \`start\` is a regular file known by its stamp only (no content id). */
export function isStampOnlyFileAt(bytes: Buffer, start: number): boolean {
  const r = new Reader(bytes);
  r.at = start;
  if (entryFields(bytes[start]) === 0) bad('entry is not a 12- or 13-field array');
  r.array();
  r.bin();
  if (KINDS[r.num()] !== 'file') return false;
  for (let i = 0; i < 6; i++) r.skip(); // mode, uid, gid, size, mtime seconds and nanoseconds
  return r.isNil();
}

/** Encode a listing and compute its id in one go. */
export function encodeWithId(tree: Tree): { bytes: Buffer; id: Hash } {
  const bytes = encodeTree(tree);
  return { bytes, id: treeIdOf(bytes) };
}

const EMPTY_TREE = encodeWithId([]);
export const EMPTY_TREE_ID: Hash = EMPTY_TREE.id;
/** The empty tree's encoding (shared: not to be written to). */
export const EMPTY_TREE_BYTES: Buffer = EMPTY_TREE.bytes;

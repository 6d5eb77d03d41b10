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
import { KINDS, type Entry, type Kind, type Tree, type TreeReader } from './entry.js';
import { hashBytes, type Hash } from './hash.js';
import { checkName } from './name.js';
import { bad, checkCanonical, entryFields, FORMAT, NS } from './format.js';

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

/** Encode a listing and compute its id in one go. */
export function encodeWithId(tree: Tree): { bytes: Buffer; id: Hash } {
  const bytes = encodeTree(tree);
  return { bytes, id: treeIdOf(bytes) };
}

const EMPTY_TREE = encodeWithId([]);
export const EMPTY_TREE_ID: Hash = EMPTY_TREE.id;
/** The empty tree's encoding (shared: not to be written to). */
export const EMPTY_TREE_BYTES: Buffer = EMPTY_TREE.bytes;

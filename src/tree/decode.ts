// Decoding the canonical tree encoding (encode.ts writes it): a full, validating decode, and
// the skims a scan uses to find entries and names in an encoded listing without decoding it.
import { KINDS, type Entry, type Xattr } from './entry.js';
import { HASH_BYTES } from './hash.js';
import { checkName } from './name.js';
import { bad, checkCanonical, entryFields, FORMAT, NS } from './format.js';

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

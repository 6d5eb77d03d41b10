// The scan cache's record of one directory: the listing it had at the last scan and the tree
// made of it (see scan-replica.ts's header), its key in the cache database, and its encoding.
import { createHash } from 'node:crypto';
import type { Path } from '../merge/plan.js';
import { DirListing } from './list-dir.js';

/** What the cache keeps per directory. */
export interface DirRecord {
  /** The listing (list-dir.ts bytes). */
  readonly listing: Buffer;
  /** The tree the scan made of it. */
  readonly tree: Buffer;
  /** Base's tree at this directory then (empty: none). */
  readonly baseTree: Buffer;
  /** Names excluded here then, joined by NUL. */
  readonly excluded: string;
  /** Every entry's mtime was before the cutoff, and no temp file was there: reusable whole. */
  readonly reusable: boolean;
  /** The listing was made with xattrs asked for (its flags may be kept: list-dir.ts). */
  readonly withXattrs: boolean;
  /**
   * Latest mtime or ctime in the listing and the cutoff (scan start less the margin),
   * microseconds.
   */
  readonly latestUs: number;
  readonly cutoffUs: number;
  /** Subdirectories: name (byte string), tree id made then, base's tree id then (or empty). */
  readonly dirs: readonly [string, Buffer, Buffer][];
  /** Regular files here and their bytes (for progress). */
  readonly files: number;
  readonly bytes: number;
  /**
   * Where each listing entry's tree entry lies in the tree's encoding (encodeParts spans, one
   * pair per listing entry; 0, 0 for one that is not in the tree).
   */
  readonly spans: Uint32Array;
}

/**
 * A directory's cache key: '/' and its path, or, past RAW_KEY bytes, the first RAW_KEY bytes of
 * that, a NUL (no path has one) and a hash of the whole path. LMDB's keys are at most 1978
 * bytes, and a path in a replica can be longer than PATH_MAX; lookups stay exact, and every key
 * under a directory still starts with the key of that directory's path cut to RAW_KEY bytes.
 */
export const keyOf = (dir: Path): Buffer => {
  const raw = Buffer.from('/' + dir, 'latin1');
  if (raw.length <= RAW_KEY) return raw;
  const hash = createHash('sha256').update(raw).digest();
  return Buffer.concat([raw.subarray(0, RAW_KEY), NUL, hash]);
};
const RAW_KEY = 1024;
const NUL = Buffer.alloc(1);

/** What every cache key at or under `prefix` (a raw key and a slash) starts with. */
export const rangeOf = (prefix: Buffer): Buffer => prefix.subarray(0, RAW_KEY);

// 3: m counts ctimes too (a record of an older version is only a missed shortcut).
const RECORD_VERSION = 3;

/**
 * A record as bytes: version; flags (bit 0: reusable, bit 1: withXattrs); latestUs, cutoffUs,
 * files, bytes as doubles; excluded (u32 length + bytes); baseTree (u8 length + bytes); tree
 * (32 bytes); dirs (u32 count; per entry u32 length + name, 32-byte id, u8 length + base id);
 * spans (u32 count, then the u32s in this machine's byte order: the cache is the machine's
 * own); then the listing to the end. Written per changed directory, so it is kept simple to
 * build: one allocation and copies. The field names are not in the bytes: the version says the
 * layout.
 */
export function encodeRecord(r: DirRecord): Buffer {
  let size =
    2 + 4 * 8 + 4 + r.excluded.length + 1 + r.baseTree.length + 32 + 4 + 4 + r.spans.byteLength;
  size += r.listing.length;
  for (const [name, , b] of r.dirs) size += 4 + name.length + 32 + 1 + b.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(RECORD_VERSION, 0);
  at = out.writeUInt8((r.reusable ? 1 : 0) | (r.withXattrs ? 2 : 0), at);
  for (const v of [r.latestUs, r.cutoffUs, r.files, r.bytes]) at = out.writeDoubleLE(v, at);
  at = out.writeUInt32LE(r.excluded.length, at);
  at += out.write(r.excluded, at, 'latin1');
  at = out.writeUInt8(r.baseTree.length, at);
  at += r.baseTree.copy(out, at);
  at += r.tree.copy(out, at);
  at = out.writeUInt32LE(r.dirs.length, at);
  for (const [name, id, b] of r.dirs) {
    at = out.writeUInt32LE(name.length, at);
    at += out.write(name, at, 'latin1');
    at += id.copy(out, at);
    at = out.writeUInt8(b.length, at);
    at += b.copy(out, at);
  }
  at = out.writeUInt32LE(r.spans.length, at);
  out.set(new Uint8Array(r.spans.buffer, r.spans.byteOffset, r.spans.byteLength), at);
  at += r.spans.byteLength;
  r.listing.copy(out, at);
  return out;
}

export function decodeRecord(v: Buffer): DirRecord | undefined {
  try {
    if (v.readUInt8(0) !== RECORD_VERSION) return undefined;
    const w = (v.readUInt8(1) & 1) === 1;
    const a = (v.readUInt8(1) & 2) === 2;
    let at = 2;
    const num = (): number => {
      const n = v.readDoubleLE(at);
      at += 8;
      return n;
    };
    const [m, c, f, y] = [num(), num(), num(), num()];
    // Views, not copies: the database hands out a buffer of the caller's own.
    const bytes = (n: number): Buffer => {
      if (at + n > v.length) throw new RangeError('truncated');
      const b = v.subarray(at, at + n);
      at += n;
      return b;
    };
    const xl = v.readUInt32LE(at);
    at += 4;
    const x = bytes(xl).toString('latin1');
    const b = bytes(v.readUInt8(at++));
    const t = bytes(32);
    const dn = v.readUInt32LE(at);
    at += 4;
    const d: [string, Buffer, Buffer][] = [];
    for (let i = 0; i < dn; i++) {
      const nl = v.readUInt32LE(at);
      at += 4;
      const name = bytes(nl).toString('latin1');
      const id = bytes(32);
      const bl = v.readUInt8(at++);
      d.push([name, id, bytes(bl)]);
    }
    const sn = v.readUInt32LE(at);
    at += 4;
    // Copied: a view at an odd offset cannot be read as u32s.
    const s = new Uint32Array(sn);
    new Uint8Array(s.buffer).set(bytes(sn * 4));
    const l = bytes(v.length - at);
    if (sn !== new DirListing(l).count * 2) return undefined;
    return {
      listing: l,
      tree: t,
      baseTree: b,
      excluded: x,
      reusable: w,
      withXattrs: a,
      latestUs: m,
      cutoffUs: c,
      dirs: d,
      files: f,
      bytes: y,
      spans: s,
    };
  } catch {
    return undefined;
  }
}

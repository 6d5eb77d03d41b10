// One directory's entries and their lstat fields as one buffer (native/scandir.c; a
// JavaScript fallback builds the same bytes where the addon is not built). The buffer is a
// pure function of the directory's state: sorted by name bytes, no access times. So a scan can
// tell an unchanged directory by comparing two buffers, and keep the last listing as the stat
// cache of every entry in it (git's index trick, per directory instead of per file).
//
// Layout (little-endian): u64 count; count records of 14 u64 fields (FIELD_* below); then
// the names back to back, each record holding its name's offset and length.
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import type { ByteString, Kind } from '../tree/index.js';
import type { StatFields } from './fs-entry.js';
import { native, RECORD_FIELDS } from './native.js';
import { readXattrs, readXattrsSync } from './xattrs.js';

const FIELD_MODE = 0;
const FIELD_UID = 1;
const FIELD_GID = 2;
const FIELD_SIZE = 3;
const FIELD_MTIME_SEC = 4;
const FIELD_MTIME_NSEC = 5;
const FIELD_CTIME_SEC = 6;
const FIELD_CTIME_NSEC = 7;
const FIELD_INO = 8;
const FIELD_DEV = 9;
const FIELD_RDEV = 10;
const FIELD_FLAGS = 11;
const FIELD_NAME_OFFSET = 12;
const FIELD_NAME_LENGTH = 13;
const FIELDS = RECORD_FIELDS;
const RECORD = FIELDS * 8;
/** Bytes of a record that describe the entry (all but where its name is kept). */
const STAT_BYTES = FIELD_NAME_OFFSET * 8;
/** FIELD_FLAGS: the entry may carry user.* xattrs. */
const FLAG_USER_XATTRS = 1;

/** What a scan needs of one entry's lstat (times in ns; sizes of files fit a double). */
export interface FileStat extends StatFields {
  /** st_mode: type and permission bits. */
  readonly mode: number;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
  /** The entry may carry user.* xattrs (false: it has none, or they were not asked for). */
  readonly userXattrs: boolean;
}

/** Which lister this process uses ('native' unless the addon is not built). */
export const lister: 'native' | 'js' = native === undefined ? 'js' : 'native';

/**
 * An earlier listing of the same directory, made with xattrs asked for, and a time (µs since
 * the epoch) before which a change would have shown in it: an entry whose every lstat field,
 * ctime included, is as then, and whose ctime is before that time, keeps the xattr flag it had
 * then (setting or removing an xattr changes ctime), so it is not asked again (one
 * llistxattr per file otherwise). The flags, and so the bytes, are the same either way.
 */
export interface EarlierListing {
  readonly listing: Buffer;
  readonly cutoffUs: number;
}

/** List the directory at `p` (a byte path). Throws the system error (with its code). */
export function listDir(p: Buffer, xattrs: boolean, old?: EarlierListing): DirListing {
  return new DirListing(
    native === undefined
      ? listDirJs(p, xattrs)
      : native.listDir(p, xattrs, old?.listing, old?.cutoffUs),
  );
}

/** listDir off the event loop: the native lister on a worker thread, or the fallback's async calls. */
export async function listDirAsync(
  p: Buffer,
  xattrs: boolean,
  old?: EarlierListing,
): Promise<DirListing> {
  return new DirListing(
    native === undefined
      ? await listDirJsAsync(p, xattrs)
      : await native.listDirAsync(p, xattrs, old?.listing, old?.cutoffUs),
  );
}

/** The JavaScript lister: the same bytes, from readdir and one lstat per entry. */
export function listDirJs(p: Buffer, xattrs: boolean): Buffer {
  const names = readdirSync(p, { encoding: 'buffer' }).sort((a, b) => Buffer.compare(a, b));
  const found: [Buffer, BigIntStats, boolean][] = [];
  for (const name of names) {
    const child = Buffer.concat([p, SLASH, name]);
    let st;
    try {
      st = lstatSync(child, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since readdir
      throw err;
    }
    const probe = xattrs && (st.isFile() || st.isDirectory());
    found.push([name, st, probe && readXattrsSync(child) !== undefined]);
  }
  return listingOf(found);
}

/** listDirJs with every call off the event loop's thread (the scan's fallback lister). */
export async function listDirJsAsync(p: Buffer, xattrs: boolean): Promise<Buffer> {
  const names = (await readdir(p, { encoding: 'buffer' })).sort((a, b) => Buffer.compare(a, b));
  const found: [Buffer, BigIntStats, boolean][] = [];
  for (const name of names) {
    const child = Buffer.concat([p, SLASH, name]);
    let st;
    try {
      st = await lstat(child, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since readdir
      throw err;
    }
    const probe = xattrs && (st.isFile() || st.isDirectory());
    found.push([name, st, probe && (await readXattrs(child)) !== undefined]);
  }
  return listingOf(found);
}

/** The listing bytes of entries found (sorted by name), each with its lstat and xattr flag. */
function listingOf(found: readonly [Buffer, BigIntStats, boolean][]): Buffer {
  const records: Buffer[] = [];
  const kept: Buffer[] = [];
  let off = 0;
  for (const [name, st, flagged] of found) {
    const r = Buffer.alloc(RECORD);
    const sec = (ns: bigint): bigint => (ns < 0n ? -((-ns + 999_999_999n) / NS) : ns / NS);
    const put = (field: number, v: bigint): void => {
      r.writeBigUInt64LE(BigInt.asUintN(64, v), field * 8);
    };
    put(FIELD_MODE, st.mode);
    put(FIELD_UID, st.uid);
    put(FIELD_GID, st.gid);
    put(FIELD_SIZE, st.size);
    put(FIELD_MTIME_SEC, sec(st.mtimeNs));
    put(FIELD_MTIME_NSEC, st.mtimeNs - sec(st.mtimeNs) * NS);
    put(FIELD_CTIME_SEC, sec(st.ctimeNs));
    put(FIELD_CTIME_NSEC, st.ctimeNs - sec(st.ctimeNs) * NS);
    put(FIELD_INO, st.ino);
    put(FIELD_DEV, st.dev);
    put(FIELD_RDEV, st.rdev);
    put(FIELD_FLAGS, flagged ? 1n : 0n);
    put(FIELD_NAME_OFFSET, BigInt(off));
    put(FIELD_NAME_LENGTH, BigInt(name.length));
    off += name.length;
    records.push(r);
    kept.push(name);
  }
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(records.length));
  return Buffer.concat([count, ...records, ...kept]);
}

const SLASH = Buffer.from('/');
const NS = 1_000_000_000n;

/** A directory listing: entry i's name and stat, read out of the buffer on demand. */
export class DirListing {
  readonly count: number;
  private readonly namesAt: number;
  private index: Map<ByteString, number> | undefined;

  constructor(readonly raw: Buffer) {
    this.count = Number(raw.readBigUInt64LE(0));
    this.namesAt = 8 + this.count * RECORD;
    if (raw.length < this.namesAt) throw new Error('truncated directory listing');
  }

  private u32(i: number, field: number): number {
    return this.raw.readUInt32LE(8 + i * RECORD + field * 8);
  }

  private u53(i: number, field: number): number {
    const at = 8 + i * RECORD + field * 8;
    return this.raw.readUInt32LE(at) + this.raw.readUInt32LE(at + 4) * 2 ** 32;
  }

  private big(i: number, field: number): bigint {
    return this.raw.readBigInt64LE(8 + i * RECORD + field * 8);
  }

  name(i: number): ByteString {
    const at = this.namesAt + this.u53(i, FIELD_NAME_OFFSET);
    return this.raw.toString('latin1', at, at + this.u53(i, FIELD_NAME_LENGTH));
  }

  /** The byte name as a Buffer view (no copy). */
  nameBytes(i: number): Buffer {
    const at = this.namesAt + this.u53(i, FIELD_NAME_OFFSET);
    return this.raw.subarray(at, at + this.u53(i, FIELD_NAME_LENGTH));
  }

  mode(i: number): number {
    return this.u32(i, FIELD_MODE);
  }

  /**
   * Entry i's inode and device as one string (their 16 bytes, latin1): equal for two names of
   * one file, whichever directories list them (how links.ts finds hard-link groups).
   */
  inodeKey(i: number): string {
    const at = 8 + i * RECORD + FIELD_INO * 8;
    return this.raw.toString('latin1', at, at + 16);
  }

  /**
   * Entry i's inode and device as one number where that is exact (the inode below 2^53 and the
   * device `dev`), else -1: a cheaper key than inodeKey for the common case (links.ts).
   */
  inodeNumber(i: number, dev: number): number {
    const at = 8 + i * RECORD;
    const hi = this.raw.readUInt32LE(at + FIELD_INO * 8 + 4);
    if (hi >= 0x200000 || this.u53(i, FIELD_DEV) !== dev) return -1;
    return hi * 2 ** 32 + this.raw.readUInt32LE(at + FIELD_INO * 8);
  }

  /** Entry i's device number (exact below 2^53). */
  dev(i: number): number {
    return this.u53(i, FIELD_DEV);
  }

  kind(i: number): Kind | undefined {
    return kindOfMode(this.mode(i));
  }

  size(i: number): number {
    return this.u53(i, FIELD_SIZE);
  }

  mtimeNs(i: number): bigint {
    return this.big(i, FIELD_MTIME_SEC) * NS + this.big(i, FIELD_MTIME_NSEC);
  }

  /** mtime in whole microseconds (exact as a double for any date this side of year 200000). */
  mtimeUs(i: number): number {
    const at = 8 + i * RECORD + FIELD_MTIME_SEC * 8;
    const sec = this.raw.readUInt32LE(at) + this.raw.readInt32LE(at + 4) * 2 ** 32;
    return sec * 1e6 + Math.floor(this.u32(i, FIELD_MTIME_NSEC) / 1000);
  }

  /** ctime in whole microseconds (as mtimeUs). */
  ctimeUs(i: number): number {
    const at = 8 + i * RECORD + FIELD_CTIME_SEC * 8;
    const sec = this.raw.readUInt32LE(at) + this.raw.readInt32LE(at + 4) * 2 ** 32;
    return sec * 1e6 + Math.floor(this.u32(i, FIELD_CTIME_NSEC) / 1000);
  }

  /**
   * When entry i last changed as far as its stat can tell: the later of mtime and ctime, in
   * whole microseconds. A rewrite that puts the old mtime back (touch -r, cp -p) still sets
   * ctime to now, so this is what decides whether a stamp is too recent to trust.
   */
  changedUs(i: number): number {
    return Math.max(this.mtimeUs(i), this.ctimeUs(i));
  }

  /**
   * The latest mtime or ctime of any entry (changedUs), in whole microseconds (-Infinity when
   * there is none).
   */
  latestMtimeUs(): number {
    return native === undefined ? this.latestMtimeUsJs() : native.latestMtimeUs(this.raw);
  }

  /** latestMtimeUs in JavaScript (where the native helper is not built). */
  latestMtimeUsJs(): number {
    let latest = -Infinity;
    for (let i = 0; i < this.count; i++) latest = Math.max(latest, this.changedUs(i));
    return latest;
  }

  /** Byte order of entry i's name here against entry j's name in `other` (<0, 0, >0). */
  compareName(i: number, other: DirListing, j: number): number {
    const a = this.namesAt + this.u53(i, FIELD_NAME_OFFSET);
    const b = other.namesAt + other.u53(j, FIELD_NAME_OFFSET);
    return this.raw.compare(
      other.raw,
      b,
      b + other.u53(j, FIELD_NAME_LENGTH),
      a,
      a + this.u53(i, FIELD_NAME_LENGTH),
    );
  }

  stat(i: number): FileStat {
    const mode = this.mode(i);
    return {
      kind: kindOfMode(mode),
      mode,
      uid: this.u32(i, FIELD_UID),
      gid: this.u32(i, FIELD_GID),
      size: this.u53(i, FIELD_SIZE),
      mtimeNs: this.mtimeNs(i),
      ctimeNs: this.big(i, FIELD_CTIME_SEC) * NS + this.big(i, FIELD_CTIME_NSEC),
      ino: BigInt.asUintN(64, this.big(i, FIELD_INO)),
      dev: BigInt.asUintN(64, this.big(i, FIELD_DEV)),
      rdev: this.u53(i, FIELD_RDEV),
      userXattrs: (this.u32(i, FIELD_FLAGS) & FLAG_USER_XATTRS) !== 0,
    };
  }

  /** Index of the entry named `name`, or -1. */
  indexOf(name: ByteString): number {
    if (this.index === undefined) {
      this.index = new Map();
      for (let i = 0; i < this.count; i++) this.index.set(this.name(i), i);
    }
    return this.index.get(name) ?? -1;
  }

  /** True when entry i here and entry j of `other` have the same stat (type, mode, ids,
   * size, mtime, ctime, inode, device, rdev, xattr flag): byte for byte the same record. */
  sameStat(i: number, other: DirListing, j: number): boolean {
    const a = 8 + i * RECORD;
    const b = 8 + j * RECORD;
    return this.raw.compare(other.raw, b, b + STAT_BYTES, a, a + STAT_BYTES) === 0;
  }

  equals(other: Buffer): boolean {
    return this.raw.equals(other);
  }
}

/**
 * For each entry of `now`, the index of the entry of `old` with the same name and the same
 * stat (sameStat), or -1: one walk through both (they are sorted by name bytes).
 */
export function matchListings(now: DirListing, old: DirListing): Int32Array {
  return native === undefined ? matchListingsJs(now, old) : native.matchListings(now.raw, old.raw);
}

/** matchListings in JavaScript (where the native helper is not built). */
export function matchListingsJs(now: DirListing, old: DirListing): Int32Array {
  const m = new Int32Array(now.count).fill(-1);
  let j = 0;
  for (let i = 0; i < now.count; i++) {
    let order = 1;
    while (j < old.count && (order = now.compareName(i, old, j)) > 0) j++;
    if (j >= old.count) break;
    if (order === 0 && now.sameStat(i, old, j)) m[i] = j;
  }
  return m;
}

export function kindOfMode(mode: number): Kind | undefined {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o020000:
      return 'chardev';
    case 0o060000:
      return 'blockdev';
    default:
      return undefined;
  }
}

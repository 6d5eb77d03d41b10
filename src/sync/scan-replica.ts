// Scanning a replica into a tree in the store. Two modes (DESIGN decision 4, issue 3 item 4):
// - 'hash' (the local replica, snapshots): every file gets its content id; a file known to be
//   unchanged keeps its id unread, so a rescan reads only what changed;
// - 'stamp' (the server replica): no content is read; a file whose stamp matches base keeps
//   base's id, any other file is known by its stamp only (size, mtime).
// An entry equal to base but for an mtime inside the stamp window (stamp.ts) takes base's
// mtime, so a file tether wrote is not seen as touched on the next run.
//
// Each directory is listed in one call (list-dir.ts: names and lstat fields in one buffer).
// With a scan cache, the listing a directory had at the last scan is kept with the tree that
// scan made of it. A directory whose listing is byte for byte the same (no entry added,
// removed, or with any of type, mode, owner, size, mtime, ctime, inode, device changed), with
// the same base below it and no entry modified too close to that scan to trust its stamp, is
// the same tree: only its subdirectories are looked into. In a directory that did change, the
// old listing is the stat cache of every entry in it: an entry whose stat is the same keeps
// its content id and xattrs. A cache is only ever a shortcut: without one (or with one that
// does not match) everything is read as before. Stamps are compared with inode numbers in
// them only through the cache; sshfs and some NFS setups renumber inodes, which only costs
// the shortcut.
import { readlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import {
  byteString,
  display,
  entriesEqual,
  joinPath,
  type Entry,
  type Hash,
  type Tree,
} from '../tree/index.js';
import type { TreeStore } from './base-update.js';
import { fsPath, hashFile, isMissing } from './fs-entry.js';
import { DirListing, listDirAsync, type FileStat } from './list-dir.js';
import { asBytes, type KvDb } from './ports.js';
import { TEMP_PREFIX } from './replica.js';
import { closeMtime, MTIME_WINDOW_NS } from './stamp.js';
import { readXattrsSync } from './xattrs.js';

export interface ScanOptions {
  readonly content: 'hash' | 'stamp';
  /** The base tree: ids of unchanged files, and the mtime an entry inside the window takes. */
  readonly base?: Hash;
  /** Further trees whose ids may be reused for files with an equal stamp (the last scan). */
  readonly known?: readonly Hash[];
  /** Paths left out of the scan (recorded conflict variants, a store inside the root). */
  readonly exclude?: ReadonlySet<Path>;
  /** Called per entry looked at one by one (not for directories the cache vouches for). */
  readonly onEntry?: (path: Path) => void;
  /** Called per directory with the number and bytes of the regular files in it. */
  readonly onFiles?: (files: number, bytes: number) => void;
  /**
   * Take the id of a base or known file with the same size and mtime (default true). A
   * snapshot says false: it trusts only the scan cache, which also compares ctime, inode and
   * device.
   */
  readonly trustStamps?: boolean;
  /** Reads a file whose id is not known: by default hashes it; a snapshot stores it too. */
  readonly read?: (p: Buffer, path: Path, st: FileStat) => Promise<Hash>;
  /** Delete temporary files a killed run left behind (only while holding the sync lock). */
  readonly removeTemps?: boolean;
  /**
   * Files with an mtime at or after this are read even in 'stamp' mode: they changed too close
   * to the last run for their stamp to tell (on a filesystem with whole-second times, an edit
   * in the same second as the last sync leaves the stamp as it was).
   */
  readonly racySinceNs?: bigint;
  /** How far apart two mtimes may be and still be the same (the replica's granularity). */
  readonly mtimeWindowNs?: bigint;
  /** Read user.* xattrs of files and directories (default true). */
  readonly xattrs?: boolean;
  /** The scan cache of this root and mode (a database of its own; see the header). */
  readonly cache?: KvDb;
  /** The scan's start (ns since the epoch; default now): entries modified after it less a
   * margin are not vouched for by the cache next time. */
  readonly startNs?: bigint;
}

/** Files modified this close to a scan's start are not taken from the cache next time. */
const RACY_NS = 100_000_000n;

/** At most this many files are hashed at once. */
const PARALLEL = 16;

/** What the cache keeps per directory. */
interface DirRecord {
  /** The listing (list-dir.ts bytes). */
  readonly l: Buffer;
  /** The tree the scan made of it. */
  readonly t: Buffer;
  /** Base's tree at this directory then (empty: none). */
  readonly b: Buffer;
  /** Names excluded here then, joined by NUL. */
  readonly x: string;
  /** Every entry's mtime was before the cutoff, and no temp file was there: reusable whole. */
  readonly w: boolean;
  /** Latest mtime in the listing and the cutoff (scan start less the margin), microseconds. */
  readonly m: number;
  readonly c: number;
  /** Subdirectories: name (byte string), tree id made then, base's tree id then (or empty). */
  readonly d: readonly [string, Buffer, Buffer][];
  /** Regular files here and their bytes (for progress). */
  readonly f: number;
  readonly y: number;
}

/** A tree id the scan has, or lazily finds (known trees are decoded only where needed). */
type LazyId = () => Hash | undefined;

export async function scanReplica(
  store: TreeStore & { has(id: Hash): boolean; flush?: () => Promise<void> },
  root: string,
  opts: ScanOptions,
): Promise<Hash> {
  const rootBuf = Buffer.from(root);
  const readAttrs = opts.xattrs ?? true;
  const window = opts.mtimeWindowNs ?? MTIME_WINDOW_NS;
  const read = opts.read ?? ((p: Buffer) => hashFile(p));
  const limit = new Limiter(PARALLEL);
  const startNs = opts.startNs ?? BigInt(Date.now()) * 1_000_000n;
  const margin = window > RACY_NS ? window : RACY_NS;
  const cutoffUs = Number((startNs - margin) / 1000n);
  const racySinceUs = opts.racySinceNs === undefined ? Infinity : Number(opts.racySinceNs / 1000n);
  const cache = opts.cache;
  const writes: Promise<unknown>[] = [];
  /** Records to write once what they name is on disk (see the end). */
  const records: [Buffer, Buffer][] = [];

  const excluded = new Map<Path, string[]>();
  for (const p of opts.exclude ?? []) {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    excluded.set(dir, [...(excluded.get(dir) ?? []), p.slice(slash + 1)]);
  }
  const exclKey = (dir: Path): string => (excluded.get(dir) ?? []).sort().join('\0');

  const listings = new Map<Hash, Map<string, Entry>>();
  const listing = (id: Hash | undefined): ReadonlyMap<string, Entry> => {
    if (id === undefined) return NONE;
    let l = listings.get(id);
    if (l === undefined) {
      l = new Map(store.readTree(id).map((e) => [e.name, e]));
      listings.set(id, l);
    }
    return l;
  };
  const childOf =
    (parent: LazyId, name: string): LazyId =>
    () => {
      const e = listing(parent()).get(name);
      return e?.kind === 'dir' ? e.id : undefined;
    };

  const recordOf = (dir: Path): DirRecord | undefined => {
    if (cache === undefined) return undefined;
    const v = asBytes(cache.get(keyOf(dir)));
    if (v === undefined) return undefined;
    return decodeRecord(v); // an unreadable record is only a missed shortcut
  };

  /** The tree of `dir`, or undefined when the directory vanished before it was listed. */
  const scanDir = async (
    dir: Path,
    baseId: Hash | undefined,
    known: readonly LazyId[],
  ): Promise<Hash | undefined> => {
    const abs = fsPath(rootBuf, dir);
    let list: DirListing;
    try {
      list = await listDirAsync(abs, readAttrs);
    } catch (err) {
      if (dir !== '' && isMissing(err)) return undefined; // gone since its parent was listed
      throw new TetherError(
        'EIO',
        `cannot list ${display(dir === '' ? root : dir)} in ${root}: ${(err as Error).message}; fix its permissions or exclude it`,
        { path: display(dir) },
        { cause: err },
      );
    }
    const rec = recordOf(dir);
    const excl = exclKey(dir);
    const baseBuf = baseId === undefined ? EMPTY : Buffer.from(baseId, 'hex');
    const oldTree = rec === undefined ? undefined : rec.t.toString('hex');

    if (
      rec !== undefined &&
      rec.w &&
      rec.m < racySinceUs &&
      rec.x === excl &&
      (baseBuf.equals(rec.b) || baseBuf.equals(rec.t)) &&
      list.equals(rec.l) &&
      store.has(oldTree!)
    ) {
      // Unchanged here: the old tree holds, but for what changed below. Base is what it was
      // then, or (after a sync) exactly that old tree, which normalizes and lends ids to
      // nothing the old tree does not already have.
      const sameBase = baseBuf.equals(rec.b);
      opts.onFiles?.(rec.f, rec.y);
      const ids = await Promise.all(
        rec.d.map(([name, id, b]) => {
          const childBase = sameBase ? b : id;
          return scanDir(
            joinPath(dir, name),
            childBase.length === 0 ? undefined : childBase.toString('hex'),
            known.map((k) => childOf(k, name)),
          );
        }),
      );
      if (ids.every((id, i) => id === rec.d[i]![1].toString('hex'))) return oldTree!;
      const now = new Map(rec.d.map(([name], i) => [name, ids[i]]));
      const tree: Entry[] = [];
      for (const e of store.readTree(oldTree!)) {
        if (e.kind !== 'dir') tree.push(e);
        else {
          const id = now.get(e.name);
          if (id !== undefined) tree.push({ ...e, id });
        }
      }
      return remember(dir, list, rec, tree, baseBuf, excl, rec.w);
    }

    // Entry by entry.
    const base = listing(baseId);
    const old = rec === undefined ? undefined : new DirListingView(rec, store);
    // Old entries were normalized against a base (so their mtime may not be the file's).
    const rawBase = rec !== undefined && rec.b.length > 0;
    const entries: Entry[] = [];
    const waits: Promise<Entry | undefined>[] = [];
    let temps = false;
    let files = 0;
    let bytes = 0;
    const excludedHere = excluded.get(dir);
    for (let i = 0; i < list.count; i++) {
      const name = list.name(i);
      if (name.startsWith(TEMP_PREFIX)) {
        // Left by a run that was killed mid-write: never part of the tree.
        temps = true;
        if (opts.removeTemps === true) {
          await unlink(fsPath(rootBuf, joinPath(dir, name))).catch(() => undefined);
        }
        continue;
      }
      if (excludedHere?.includes(name) === true) continue;
      const b = base.get(name);
      const was = old?.unchanged(list, i, name);
      if (was !== undefined && was.kind !== 'dir') {
        // The file's own mtime is needed only where it may differ from the old entry's (that
        // was normalized against an old base) and base does not settle it.
        const settled = b === undefined ? !rawBase : b.mtimeNs === was.mtimeNs && sameLeaf(b, was);
        const e = vouched(was, settled ? was.mtimeNs : list.mtimeNs(i), b, known, name);
        if (e !== undefined) {
          if (opts.onEntry !== undefined) opts.onEntry(joinPath(dir, name));
          if (e.kind === 'file') {
            files++;
            bytes += e.size;
          }
          entries.push(e);
          continue;
        }
      }
      const path = joinPath(dir, name);
      const st = list.stat(i);
      const p = fsPath(rootBuf, path);
      let e = entryFromStat(p, name, st);
      if (e === undefined) continue;
      opts.onEntry?.(path);
      if (e.kind === 'file') {
        files++;
        bytes += st.size;
      }
      if (was !== undefined) {
        // A directory the old listing vouches for: its xattrs are as they were.
        if (was.xattrs !== undefined) e = { ...e, xattrs: was.xattrs };
      } else if (readAttrs && st.userXattrs && (e.kind === 'file' || e.kind === 'dir')) {
        const xattrs = readXattrsSync(p);
        if (xattrs !== undefined) e = { ...e, xattrs };
      }
      if (e.kind === 'dir') {
        const d = e;
        const childBase = b?.kind === 'dir' ? b.id : undefined;
        waits.push(
          scanDir(
            path,
            childBase,
            known.map((k) => childOf(k, name)),
          ).then((id) => (id === undefined ? undefined : { ...d, id })),
        );
        continue;
      }
      if (e.kind === 'file' && e.id === undefined) {
        const racy = opts.racySinceNs !== undefined && st.mtimeNs >= opts.racySinceNs;
        const id = racy
          ? undefined
          : opts.trustStamps === false
            ? undefined
            : reuse(e, [b, ...known.map((k) => listing(k()).get(name))], window);
        if (id !== undefined) e = { ...e, id };
        else if (opts.content === 'hash' || racy) {
          const f = e;
          waits.push(
            limit
              .run(() => hashOf(p, path, root, () => read(p, path, st)))
              .then((hid) => {
                const h = { ...f, id: hid };
                return b !== undefined ? normalize(h, b, window) : h;
              }),
          );
          continue;
        }
      }
      entries.push(b !== undefined ? normalize(e, b, window) : e);
    }
    const done = waits.length === 0 ? [] : await Promise.all(waits);
    const tree = entries;
    for (const e of done) if (e !== undefined) tree.push(e);
    tree.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    opts.onFiles?.(files, bytes);
    let latest = -Infinity;
    for (let i = 0; i < list.count; i++) {
      const us = list.mtimeUs(i);
      if (us > latest) latest = us;
    }
    if (rec !== undefined) dropGone(dir, rec, tree);
    if (old !== undefined && old.same(tree)) {
      // Every entry is the old one: the old tree, without encoding it again.
      return remember(
        dir,
        list,
        { f: files, y: bytes, m: latest },
        tree,
        baseBuf,
        excl,
        !temps,
        oldTree,
      );
    }
    return remember(dir, list, { f: files, y: bytes, m: latest }, tree, baseBuf, excl, !temps);
  };

  /**
   * The entry for a leaf the old listing vouches for: the old entry, but for its mtime, which
   * may have been set to the old base's (normalize) and is judged against base anew, and a
   * stamp-only file's id, which base or a known tree may now lend by its stamp. Undefined for
   * a file whose content must still be read.
   */
  const vouched = (
    was: Entry,
    raw: bigint,
    b: Entry | undefined,
    known: readonly LazyId[],
    name: string,
  ): Entry | undefined => {
    let e = was.mtimeNs === raw ? was : { ...was, mtimeNs: raw };
    if (e.kind === 'file' && e.id === undefined) {
      const id =
        opts.trustStamps === false
          ? undefined
          : reuse(e, [b, ...known.map((k) => listing(k()).get(name))], window);
      if (id !== undefined) e = { ...e, id };
      else if (opts.content === 'hash') return undefined;
    }
    return b !== undefined ? normalize(e, b, window) : e;
  };

  /** Put the tree and keep the directory's record for the next scan. */
  const remember = (
    dir: Path,
    list: DirListing,
    counts: { f: number; y: number; m: number },
    tree: Tree,
    baseBuf: Buffer,
    excl: string,
    clean: boolean,
    known?: Hash,
  ): Hash => {
    const id = known ?? store.putTree(tree);
    if (cache === undefined) return id;
    const base = baseId(baseBuf);
    const d: [string, Buffer, Buffer][] = [];
    for (const e of tree) {
      if (e.kind !== 'dir') continue;
      const b = base.get(e.name);
      d.push([
        e.name,
        Buffer.from(e.id!, 'hex'),
        b?.kind === 'dir' && b.id !== undefined ? Buffer.from(b.id, 'hex') : EMPTY,
      ]);
    }
    const r: DirRecord = {
      l: list.raw,
      t: Buffer.from(id, 'hex'),
      b: baseBuf,
      x: excl,
      w: clean && counts.m < cutoffUs,
      m: counts.m,
      c: cutoffUs,
      d,
      f: counts.f,
      y: counts.y,
    };
    records.push([keyOf(dir), encodeRecord(r)]);
    return id;
  };
  const baseId = (b: Buffer): ReadonlyMap<string, Entry> =>
    listing(b.length === 0 ? undefined : b.toString('hex'));

  /** Records of subdirectories that are no longer there go with them. */
  const dropGone = (dir: Path, rec: DirRecord, tree: Tree): void => {
    if (cache === undefined) return;
    const still = new Set(tree.filter((e) => e.kind === 'dir').map((e) => e.name));
    for (const [name] of rec.d) {
      if (still.has(name)) continue;
      const prefix = keyOf(joinPath(dir, name));
      const sub = Buffer.concat([prefix, SLASH]);
      writes.push(cache.remove(prefix));
      for (const { key } of cache.getRange({ start: sub })) {
        const k = asBytes(key);
        if (k === undefined || !k.subarray(0, sub.length).equals(sub)) break;
        writes.push(cache.remove(Buffer.from(k)));
      }
    }
  };

  const rootKnown = (opts.known ?? []).map(
    (id): LazyId =>
      () =>
        id,
  );
  const id = await scanDir('', opts.base, rootKnown);
  await Promise.all(writes);
  await putRecords(store, cache, records);
  return id!;
}

const NONE: ReadonlyMap<string, Entry> = new Map();
const EMPTY = Buffer.alloc(0);
const SLASH = Buffer.from('/');

const keyOf = (dir: Path): Buffer => Buffer.from('/' + dir, 'latin1');

/**
 * After a scan, its tree was completed with content ids read since (stamp-only server files
 * hashed where both sides changed, or to pair renames): the cache learns them, so that the next
 * scan, which would lend the same ids from base or the last scan, finds its records whole.
 * Only records that hold the scanned tree are changed; the listing they vouch for is the same.
 */
export async function learnIds(
  store: TreeStore & { flush?: () => Promise<void> },
  cache: KvDb,
  scanned: Hash,
  completed: Hash,
): Promise<void> {
  const records: [Buffer, Buffer][] = [];
  const visit = (dir: Path, was: Hash, now: Hash): void => {
    if (was === now) return;
    const v = asBytes(cache.get(keyOf(dir)));
    const rec = v === undefined ? undefined : decodeRecord(v);
    if (rec === undefined || rec.t.toString('hex') !== was) return;
    const before = new Map(store.readTree(was).map((e) => [e.name, e]));
    const after = store.readTree(now);
    const d: [string, Buffer, Buffer][] = [];
    for (const e of after) {
      const b = before.get(e.name);
      // Only ids may differ: anything else means this is not the tree the record vouches for.
      if (b === undefined || b.kind !== e.kind || b.size !== e.size || b.mtimeNs !== e.mtimeNs) {
        return;
      }
      if (e.kind !== 'dir') continue;
      const child = rec.d.find(([name]) => name === e.name);
      if (child === undefined || b.id === undefined || e.id === undefined) return;
      d.push([e.name, Buffer.from(e.id, 'hex'), child[2]]);
      visit(joinPath(dir, e.name), b.id, e.id);
    }
    if (after.length !== before.size) return;
    records.push([keyOf(dir), encodeRecord({ ...rec, t: Buffer.from(now, 'hex'), d })]);
  };
  visit('', scanned, completed);
  await putRecords(store, cache, records);
}

/**
 * Write cache records only once the trees and blobs they vouch for are durable (a store that
 * can flush does so first): after a power loss a record may be missing, never a file it names.
 */
async function putRecords(
  store: TreeStore & { flush?: () => Promise<void> },
  cache: KvDb | undefined,
  records: readonly [Buffer, Buffer][],
): Promise<void> {
  if (cache === undefined || records.length === 0) return;
  await store.flush?.();
  await Promise.all(records.map(([k, v]) => cache.put(k, v)));
}

const RECORD_VERSION = 1;

/**
 * A record as bytes: version, flags (bit 0: w), m, c, f, y as doubles, x (u32 length + bytes),
 * b (u8 length + bytes), t (32 bytes), d (u32 count; per entry u32 length + name, 32-byte id,
 * u8 length + base id), then the listing to the end. Written per changed directory, so it is
 * kept simple to build: one allocation and copies.
 */
function encodeRecord(r: DirRecord): Buffer {
  let size = 2 + 4 * 8 + 4 + r.x.length + 1 + r.b.length + 32 + 4 + r.l.length;
  for (const [name, , b] of r.d) size += 4 + name.length + 32 + 1 + b.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(RECORD_VERSION, 0);
  at = out.writeUInt8(r.w ? 1 : 0, at);
  for (const v of [r.m, r.c, r.f, r.y]) at = out.writeDoubleLE(v, at);
  at = out.writeUInt32LE(r.x.length, at);
  at += out.write(r.x, at, 'latin1');
  at = out.writeUInt8(r.b.length, at);
  at += r.b.copy(out, at);
  at += r.t.copy(out, at);
  at = out.writeUInt32LE(r.d.length, at);
  for (const [name, id, b] of r.d) {
    at = out.writeUInt32LE(name.length, at);
    at += out.write(name, at, 'latin1');
    at += id.copy(out, at);
    at = out.writeUInt8(b.length, at);
    at += b.copy(out, at);
  }
  r.l.copy(out, at);
  return out;
}

function decodeRecord(v: Buffer): DirRecord | undefined {
  try {
    if (v.readUInt8(0) !== RECORD_VERSION) return undefined;
    const w = (v.readUInt8(1) & 1) === 1;
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
    const l = bytes(v.length - at);
    return { l, t, b, x, w, m, c, d, f, y };
  } catch {
    return undefined;
  }
}

/**
 * The last scan's listing of a directory, as the stat cache of its entries. Asked in name
 * order (the order of a listing), it walks the old listing and the old tree alongside.
 */
class DirListingView {
  private readonly listing: DirListing;
  private tree: Tree | undefined;
  private j = 0;
  private k = 0;
  constructor(
    private readonly rec: DirRecord,
    private readonly store: TreeStore & { has(id: Hash): boolean },
  ) {
    this.listing = new DirListing(rec.l);
  }

  /** The old entry for entry i of `now` when its stat is exactly as then and was not racy. */
  unchanged(now: DirListing, i: number, name: string): Entry | undefined {
    const old = this.listing;
    let order = 1;
    while (this.j < old.count && (order = now.compareName(i, old, this.j)) > 0) this.j++;
    const j = this.j;
    if (j >= old.count || order !== 0) return undefined;
    // Racy: changed too close to that scan for its stamp to vouch (no entry was, if the latest was not).
    if (!now.sameStat(i, old, j) || (this.rec.m >= this.rec.c && old.mtimeUs(j) >= this.rec.c)) {
      return undefined;
    }
    const tree = this.oldTree();
    while (this.k < tree.length && tree[this.k]!.name < name) this.k++;
    const e = tree[this.k];
    return e?.name === name ? e : undefined;
  }

  private oldTree(): Tree {
    if (this.tree === undefined) {
      const id = this.rec.t.toString('hex');
      this.tree = this.store.has(id) ? this.store.readTree(id) : [];
    }
    return this.tree;
  }

  /** True when `tree` is entry for entry the old tree (leaves the very same objects). */
  same(tree: Tree): boolean {
    const t = this.tree;
    if (t?.length !== tree.length) return false;
    for (let i = 0; i < tree.length; i++) {
      const was = t[i]!;
      const e = tree[i]!;
      if (was !== e && (e.kind !== 'dir' || !entriesEqual(was, e))) return false;
    }
    return true;
  }
}

/** The tree entry lstat describes (no content id: that needs the content read). */
function entryFromStat(p: Buffer, name: string, st: FileStat): Entry | undefined {
  const kind = st.kind;
  if (kind === undefined) return undefined;
  const base = {
    name,
    kind,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtimeNs: st.mtimeNs,
  };
  switch (kind) {
    case 'file':
      return { ...base, size: st.size };
    case 'symlink': {
      let target: string;
      try {
        target = byteString(readlinkSync(p, { encoding: 'buffer' }));
      } catch (err) {
        if (isMissing(err)) return undefined; // gone since the listing
        throw err;
      }
      return { ...base, size: target.length, target };
    }
    case 'chardev':
    case 'blockdev':
      return { ...base, size: 0, rdev: st.rdev };
    case 'dir':
    case 'fifo':
    case 'socket':
      return { ...base, size: 0 };
  }
}

/** Two leaves that normalize() would take for the same but for their mtimes. */
function sameLeaf(a: Entry, b: Entry): boolean {
  return (
    a.kind === b.kind &&
    a.size === b.size &&
    a.target === b.target &&
    (a.id === undefined || b.id === undefined || a.id === b.id)
  );
}

/** The id of the first reference entry with the same stamp. */
function reuse(e: Entry, refs: readonly (Entry | undefined)[], window: bigint): Hash | undefined {
  for (const r of refs) {
    if (
      r?.kind === 'file' &&
      r.id !== undefined &&
      r.size === e.size &&
      closeMtime(r.mtimeNs, e.mtimeNs, window)
    ) {
      return r.id;
    }
  }
  return undefined;
}

/** Base's mtime for an entry that equals base but for an mtime inside the window. */
function normalize(e: Entry, b: Entry, window: bigint): Entry {
  if (e.kind !== b.kind || e.size !== b.size || e.mtimeNs === b.mtimeNs) return e;
  if (!closeMtime(e.mtimeNs, b.mtimeNs, window) || e.target !== b.target) return e;
  if (e.id !== undefined && b.id !== undefined && e.id !== b.id) return e;
  return { ...e, mtimeNs: b.mtimeNs };
}

async function hashOf(
  p: Buffer,
  path: Path,
  root: string,
  read: () => Promise<Hash>,
): Promise<Hash> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof TetherError) throw err;
    if (isMissing(err)) {
      throw new TetherError(
        'ECHANGED',
        `${display(path)} in ${root} vanished while it was read; run again`,
        {
          path: display(path),
        },
      );
    }
    throw new TetherError(
      'EIO',
      `cannot read ${display(path)} in ${root}: ${(err as Error).message}; fix its permissions and run again`,
      { path: display(path) },
      { cause: err },
    );
  }
}

/** Runs at most `n` tasks at once. */
class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Next waiter to wake (a moving head: shift() would make a long queue quadratic). */
  private head = 0;
  constructor(private readonly n: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      if (this.head < this.queue.length) {
        const wake = this.queue[this.head]!;
        this.queue[this.head++] = noop;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
        }
        wake();
      }
    }
  }
}

const noop = (): void => undefined;

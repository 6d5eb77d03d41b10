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
import { isTetherError, TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import {
  byteString,
  display,
  encodeParts,
  joinPath,
  type EncodedParts,
  type Entry,
  type Hash,
  type Part,
} from '../tree/index.js';
import type { ObjectStore } from '../store/types.js';
import type { TreeStore } from '../merge/base-update.js';
import { entryOfFields, fsPath, hashFile, isMissing } from './fs-entry.js';
import { DirListing, listDirAsync, type FileStat } from './list-dir.js';
import { isPathProblem, problemError, type PathProblem } from './path-problem.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { TEMP_PREFIX } from './temp-name.js';
import { decodeRecord, encodeRecord, keyOf, rangeOf, type DirRecord } from './dir-record.js';
import { DirListingView, TreeCursor } from './old-listing.js';
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
  /**
   * Collects per-path problems (path-problem.ts): a path that cannot be listed or read is left
   * as base has it (absent where base has nothing there) and said here. Without it, such a path
   * stops the scan. The root's listing always does.
   */
  readonly problems?: PathProblem[];
  /** Called per entry looked at one by one (not for directories the cache vouches for). */
  readonly onEntry?: (path: Path) => void;
  /** Called per directory with the number and bytes of the regular files in it. */
  readonly onFiles?: (files: number, bytes: number) => void;
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
  /**
   * The replica keeps ctime and inode numbers (a local file system, not sshfs, NFS or SMB):
   * in a 'stamp' scan, a file whose size and mtime are what the last scan listed but whose
   * ctime or inode changed (rewritten with its mtime put back, or swapped) is read.
   */
  readonly stableStat?: boolean;
  /** How far apart two mtimes may be and still be the same (the replica's granularity). */
  readonly mtimeWindowNs?: bigint;
  /** Read user.* xattrs of files and directories (default true). */
  readonly xattrs?: boolean;
  /** The scan cache of this root and mode (a database of its own; see the header). */
  readonly cache?: KvDb;
  /** The scan's start (ns since the epoch; default now): entries modified after it less a
   * margin are not vouched for by the cache next time. */
  readonly startNs?: bigint;
  /** Hold the cache records back for the caller to write with its ref (see HeldRecords). */
  readonly hold?: HeldRecords;
  /**
   * Files whose content was never fetched (a mount's placeholders: sparse files of base's
   * size and mtime). Such a file is base's entry, but for the mode and owner the listing has:
   * its bytes are never read (MERGE.md rule P: never fetched is never a change). The hook
   * answers true for base's own file at this path; an entry for a placeholder renamed from
   * elsewhere (its content is that entry's, its name and owner the listing's); null for one
   * whose content is not known at all, left out of the tree (its zeros are no content).
   */
  readonly placeholder?: (path: Path, st: FileStat) => boolean | Entry | null;
  /**
   * Called with every directory's listing, the unchanged ones the cache vouches for too (a
   * snapshot finds hard-link groups in them: links.ts). Excluded names and temp files are in it.
   */
  readonly onListing?: (dir: Path, list: DirListing) => void;
}

/**
 * Cache records a scan made, held back to be written in the transaction that moves the ref
 * naming the scanned tree (one commit, not one more per scan): \`write\` puts them (putSync),
 * to be run inside a transaction made after the store's flush (setRef's or setRefs'
 * \`alongside\`). Never written, they are only a missed shortcut.
 */
export class HeldRecords {
  private readonly byKey = new Map<string, [Buffer, Buffer]>();
  private cache: KvDb | undefined;

  /** The records of a scan of \`cache\`'s root (one cache per holder). */
  adopt(cache: KvDb, records: readonly [Buffer, Buffer][]): void {
    if (this.cache !== undefined && this.cache !== cache) {
      throw new Error('HeldRecords: one holder holds the records of one cache');
    }
    this.cache = cache;
    for (const [k, v] of records) this.set(k, v);
  }

  set(k: Buffer, v: Buffer): void {
    this.byKey.set(k.toString('latin1'), [k, v]);
  }

  get(k: Buffer): Buffer | undefined {
    return this.byKey.get(k.toString('latin1'))?.[1];
  }

  /** Put them all (a function of its own: pass it as it is, as \`alongside\`). */
  readonly write = (): void => {
    const cache = this.cache;
    if (cache === undefined) return;
    for (const [k, v] of this.byKey.values()) cache.putSync(k, v);
  };
}

/** Files modified this close to a scan's start are not taken from the cache next time. */
const RACY_NS = 100_000_000n;

/** At most this many files are hashed at once. */
const PARALLEL = 16;

/** What a scan needs of the store. */
export type ScanStore = TreeStore &
  Pick<ObjectStore, 'has' | 'treeBytes' | 'putTreeBytes'> & { flush?: () => Promise<void> };

/** A tree id the scan has, or lazily finds (known trees are decoded only where needed). */
type LazyId = () => Hash | undefined;

export async function scanReplica(
  store: ScanStore,
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
  // What a stamp may decide (DESIGN decision 16). In a 'hash' scan (the local replica, a
  // snapshot) a content id is taken unread only through the scan cache, whose listing compares
  // size, mtime, ctime, inode and device (git's index rule), with the racy guard on the later of
  // mtime and ctime: a rewrite that keeps size and mtime (cp -p, touch -r, tar x) or a swap of
  // two files changes ctime and inode. In a 'stamp' scan (the server, where sshfs and some NFS
  // renumber inodes and fake ctime) size and mtime decide, as MERGE.md allows: a path changed
  // on both sides is hashed before the merge (both-changed.ts).
  const stampsLend = opts.content === 'stamp';
  const writes: Promise<unknown>[] = [];
  /** Records to write once what they name is on disk (see the end). */
  const records: [Buffer, Buffer][] = [];

  /** Directories in which something could not be read (see remember). */
  const troubled = new Set<Path>();
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
    const rec = recordOf(dir);
    let list: DirListing;
    try {
      list = await listDirAsync(
        abs,
        readAttrs,
        rec?.a === true && readAttrs ? { listing: rec.l, cutoffUs: rec.c } : undefined,
      );
    } catch (err) {
      if (dir !== '' && isMissing(err)) return undefined; // gone since its parent was listed
      const problem = problemError(err, dir, root, 'list', opts.problems === undefined);
      if (dir === '' || opts.problems === undefined) throw problem;
      // Left as base has it; the parent keeps no record of this scan (troubled), so the next
      // scan lists it again rather than trusting what was put in its place.
      opts.problems.push({
        path: dir,
        reason: problem.message,
        ...(problem.errno === undefined ? {} : { code: problem.errno }),
      });
      troubled.add(parentOf(dir));
      return baseId;
    }
    opts.onListing?.(dir, list);
    const excl = exclKey(dir);
    const baseBuf = baseId === undefined ? EMPTY : Buffer.from(baseId, 'hex');
    const oldTree = rec === undefined ? undefined : rec.t.toString('hex');
    // Known trees lend ids to stamp-only files (which only stamp scans keep), by stamp. Where
    // each known tree here is the old tree itself, its entries lend nothing the old entries
    // lack; and below, each is the old tree's subdirectory of the same name.
    const knownOld =
      rec !== undefined && (opts.content === 'hash' || known.every((k) => k() === oldTree));
    const knownBelow = (name: string, oldId: Buffer | undefined): LazyId[] =>
      knownOld && opts.content !== 'hash' && oldId !== undefined
        ? known.map(() => () => oldId.toString('hex'))
        : known.map((k) => childOf(k, name));

    if (
      knownOld &&
      rec.w &&
      rec.m < racySinceUs &&
      rec.x === excl &&
      (baseBuf.equals(rec.b) || baseBuf.equals(rec.t)) &&
      list.equals(rec.l)
    ) {
      // Unchanged here: the old tree holds, but for what changed below. (It is in the store:
      // records are written once what they name is durable, and objects leave the store only
      // by fsck --repair, which drops every cache.) Base is what it was
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
            knownBelow(name, id),
          );
        }),
      );
      if (ids.every((id, i) => id === rec.d[i]![1].toString('hex'))) return oldTree!;
      // The same listing, so the same parts: each entry's bytes are copied but for the
      // subdirectories', whose ids changed (or which vanished meanwhile).
      const now = new Map(rec.d.map(([name], i) => [name, ids[i]]));
      const old = store.readTree(oldTree!);
      const parts: Part[] = new Array<Part>(list.count);
      const dirs: Entry[] = [];
      let k = 0;
      for (let i = 0; i < list.count; i++) {
        if (rec.s[2 * i + 1] === 0) continue;
        const e = old[k++]!;
        if (e.kind !== 'dir') parts[i] = i;
        else {
          const id = now.get(e.name);
          if (id === undefined) continue;
          const d = { ...e, id };
          parts[i] = d;
          dirs.push(d);
        }
      }
      const enc = encodeParts(parts, { bytes: store.treeBytes(oldTree!), spans: rec.s });
      store.putTreeBytes(enc.bytes, enc.id);
      return remember(dir, list, rec, enc.id, enc.spans, dirs, baseBuf, excl, rec.w);
    }

    // Entry by entry, in the listing's order: the order of name bytes, which is the tree's.
    let baseMap: ReadonlyMap<string, Entry> | undefined;
    const baseEntry = (name: string): Entry | undefined => (baseMap ??= listing(baseId)).get(name);
    // Old entries were normalized against a base (so their mtime may not be the file's).
    const rawBase = rec !== undefined && rec.b.length > 0;
    // An entry the old listing vouches for (the same lstat, not racy) is its old tree entry
    // again, byte for byte, when what that entry was made from is unchanged too:
    // - base's entry: base here is what it was then, or this entry is base's exactly, or
    //   base's entry of this name is byte for byte what it was then (or absent both times);
    // - no id a known tree could now lend: the entry has its id (as every file of a 'hash'
    //   scan has), or each known tree here is the old tree itself, whose entry lends nothing
    //   the old entry lacks.
    // Such entries are copied as bytes: neither tree is decoded, nor the entry encoded again.
    // (The same reasoning as the whole-directory shortcut above, entry by entry.)
    const copy = rec !== undefined && rec.x === excl && opts.onEntry === undefined;
    const baseThen = copy && (baseBuf.equals(rec.b) || baseBuf.equals(rec.t));
    const old = rec === undefined ? undefined : new DirListingView(list, rec, store, copy);
    const lendsNothing = (j: number): boolean => knownOld || !old!.stampOnly(j);
    let oldDirs: Map<string, Buffer> | undefined;
    const cursorOf = (id: Hash | undefined): TreeCursor =>
      new TreeCursor(id === undefined ? EMPTY : Buffer.from(store.treeBytes(id)));
    let baseNow: TreeCursor | undefined;
    let baseWas: TreeCursor | undefined;
    const sameBase = (j: number): boolean => {
      if (baseThen) return true;
      const bytes = old!.bytes();
      baseNow ??= cursorOf(baseId);
      const k = baseNow.find(bytes, old!.start(j));
      if (k >= 0 && baseNow.equals(k, bytes, old!.start(j), old!.end(j))) return true;
      baseWas ??= cursorOf(rawBase ? rec.b.toString('hex') : undefined);
      const w = baseWas.find(bytes, old!.start(j));
      return k < 0 ? w < 0 : w >= 0 && baseNow.sameAs(k, baseWas, w);
    };
    const parts: Part[] = new Array<Part>(list.count);
    const waits: Promise<void>[] = [];
    let temps = false;
    let files = 0;
    let bytes = 0;
    const excludedHere = excluded.get(dir);
    for (let i = 0; i < list.count; i++) {
      // (Temp files and excluded names are never in the old tree: not copied.)
      if (copy) {
        const j = old!.match(i);
        if (j >= 0 && old!.inTree(j) && list.kind(i) !== 'dir' && lendsNothing(j) && sameBase(j)) {
          parts[i] = j;
          if (list.kind(i) === 'file') {
            files++;
            bytes += list.size(i);
          }
          continue;
        }
      }
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
      const b = baseEntry(name);
      const was = old?.unchanged(i, name);
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
          parts[i] = e;
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
        let xattrs;
        try {
          xattrs = readXattrsSync(p);
        } catch (err) {
          const problem = problemError(err, path, root, 'read', opts.problems === undefined);
          if (opts.problems === undefined) throw problem;
          opts.problems.push({ path, reason: problem.message });
          troubled.add(dir);
          if (b !== undefined && b.kind !== 'dir') parts[i] = b;
          continue;
        }
        if (xattrs !== undefined) e = { ...e, xattrs };
      }
      if (e.kind === 'dir') {
        const d = e;
        const childBase = b?.kind === 'dir' ? b.id : undefined;
        waits.push(
          scanDir(
            path,
            childBase,
            knownBelow(name, (oldDirs ??= new Map(rec?.d.map(([n, id]) => [n, id]))).get(name)),
          ).then((id) => {
            if (id !== undefined) parts[i] = { ...d, id };
          }),
        );
        continue;
      }
      const ph = e.kind === 'file' ? opts.placeholder?.(path, st) : undefined;
      if (ph === true && b?.kind === 'file') {
        parts[i] = { ...b, mode: e.mode, uid: e.uid, gid: e.gid };
        continue;
      }
      if (ph === null) continue;
      if (typeof ph === 'object') {
        parts[i] = { ...ph, name, mode: e.mode, uid: e.uid, gid: e.gid };
        continue;
      }
      if (e.kind === 'file' && e.id === undefined) {
        // Racy: changed too close to the last run for its stamp to tell. Or, where the replica
        // keeps them, its ctime or inode tell what its stamp does not.
        const racy =
          (opts.racySinceNs !== undefined && st.mtimeNs >= opts.racySinceNs) ||
          (opts.stableStat === true && old !== undefined && old.stampHides(i));
        // Size and mtime alone lend an id only in a 'stamp' scan (see stampsLend).
        const id =
          racy || !stampsLend
            ? undefined
            : reuse(e, [b, ...known.map((k) => listing(k()).get(name))], window);
        if (id !== undefined) e = { ...e, id };
        else if (opts.content === 'hash' || racy) {
          const f = e;
          waits.push(
            limit
              .run(() =>
                hashOf(p, path, root, () => read(p, path, st), opts.problems === undefined),
              )
              .then(
                (hid) => {
                  const h = { ...f, id: hid };
                  parts[i] = b !== undefined ? normalize(h, b, window) : h;
                },
                (err: unknown) => {
                  if (opts.problems === undefined || !isPathProblem(err)) throw err;
                  // Left as base has it (see the listing's problems above).
                  opts.problems.push({ path, reason: err.message });
                  troubled.add(dir);
                  if (b !== undefined && b.kind !== 'dir') parts[i] = b;
                },
              ),
          );
          continue;
        }
      }
      parts[i] = b !== undefined ? normalize(e, b, window) : e;
    }
    if (waits.length > 0) await Promise.all(waits);
    opts.onFiles?.(files, bytes);
    const latest = list.latestMtimeUs();
    const dirs: Entry[] = [];
    let copied = false;
    for (const e of parts) {
      if (typeof e === 'number') copied = true;
      else if (e?.kind === 'dir') dirs.push(e);
    }
    if (rec !== undefined) dropGone(dir, rec, dirs);
    const counts = { f: files, y: bytes, m: latest };
    const spans = copied ? undefined : old?.same(parts);
    if (spans !== undefined) {
      // Every entry is the old one: the old tree, without encoding it again.
      return remember(dir, list, counts, oldTree!, spans, dirs, baseBuf, excl, !temps);
    }
    let enc: EncodedParts;
    try {
      enc = encodeParts(
        parts,
        copied ? { bytes: store.treeBytes(oldTree!), spans: rec!.s } : undefined,
      );
    } catch (err) {
      if (!copied || isTetherError(err, 'ENOTFOUND') || isTetherError(err, 'ECORRUPT')) throw err;
      throw new TetherError(
        'EBADTREE',
        `the scan cache of ${display(dir === '' ? root : dir)} does not fit its tree (${(err as Error).message}); ` +
          'run "tether fsck --repair", which drops the caches, and scan again',
        { path: display(dir) },
        { cause: err },
      );
    }
    store.putTreeBytes(enc.bytes, enc.id);
    return remember(dir, list, counts, enc.id, enc.spans, dirs, baseBuf, excl, !temps);
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
      const id = stampsLend
        ? reuse(e, [b, ...known.map((k) => listing(k()).get(name))], window)
        : undefined;
      if (id !== undefined) e = { ...e, id };
      else if (opts.content === 'hash') return undefined;
    }
    return b !== undefined ? normalize(e, b, window) : e;
  };

  /** Keep the directory's record (its listing and the tree made of it) for the next scan. */
  const remember = (
    dir: Path,
    list: DirListing,
    counts: { f: number; y: number; m: number },
    id: Hash,
    spans: Uint32Array,
    dirs: readonly Entry[],
    baseBuf: Buffer,
    excl: string,
    clean: boolean,
  ): Hash => {
    // A directory with a problem in it holds entries put in place of what could not be read:
    // no record vouches for them next time.
    if (cache === undefined || troubled.has(dir)) return id;
    const base = baseId(baseBuf);
    const d: [string, Buffer, Buffer][] = [];
    for (const e of dirs) {
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
      a: readAttrs,
      m: counts.m,
      c: cutoffUs,
      d,
      f: counts.f,
      y: counts.y,
      s: spans,
    };
    records.push([keyOf(dir), encodeRecord(r)]);
    return id;
  };
  const baseId = (b: Buffer): ReadonlyMap<string, Entry> =>
    listing(b.length === 0 ? undefined : b.toString('hex'));

  /** Records of subdirectories that are no longer there go with them. */
  const dropGone = (dir: Path, rec: DirRecord, dirs: readonly Entry[]): void => {
    if (cache === undefined) return;
    const still = new Set(dirs.map((e) => e.name));
    for (const [name] of rec.d) {
      if (still.has(name)) continue;
      const prefix = keyOf(joinPath(dir, name));
      // Past RAW_KEY bytes this may take records of a sibling that shares the first RAW_KEY
      // bytes too: a cache record dropped is only a shortcut lost.
      const sub = rangeOf(Buffer.from('/' + joinPath(dir, name) + '/', 'latin1'));
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
  if (opts.hold !== undefined && cache !== undefined) opts.hold.adopt(cache, records);
  else await putRecords(store, cache, records);
  return id!;
}

const NONE: ReadonlyMap<string, Entry> = new Map();
const EMPTY = Buffer.alloc(0);

/**
 * After a scan, its tree was completed with content ids read since (stamp-only server files
 * hashed where both sides changed, or to pair renames): the cache learns them, so that the next
 * scan, which would lend the same ids from base or the last scan, finds its records whole.
 * Only records that hold the scanned tree are changed; the listing they vouch for is the same.
 */
export async function learnIds(
  store: ScanStore,
  cache: KvDb,
  scanned: Hash,
  completed: Hash,
  held?: HeldRecords,
): Promise<void> {
  const records: [Buffer, Buffer][] = [];
  const visit = (dir: Path, was: Hash, now: Hash): void => {
    if (was === now) return;
    const v = held?.get(keyOf(dir)) ?? asBytes(cache.get(keyOf(dir)));
    const rec = v === undefined ? undefined : decodeRecord(v);
    if (rec === undefined || rec.t.toString('hex') !== was) return;
    const before = new Map(store.readTree(was).map((e) => [e.name, e]));
    const after = store.readTree(now);
    const d: [string, Buffer, Buffer][] = [];
    // The new tree's parts: its entries where the old tree had its (tree entry k belongs to
    // the k-th listing entry that has one), so the record's spans can be made anew.
    const parts: Part[] = new Array<Part>(rec.s.length / 2);
    let k = 0;
    for (let i = 0; i < parts.length; i++) if (rec.s[2 * i + 1] !== 0) parts[i] = after[k++];
    if (k !== after.length) return;
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
    const enc = encodeParts(parts);
    if (enc.id !== now) return;
    records.push([
      keyOf(dir),
      encodeRecord({ ...rec, t: Buffer.from(now, 'hex'), d, s: enc.spans }),
    ]);
  };
  visit('', scanned, completed);
  if (held !== undefined) for (const [k, v] of records) held.set(k, v);
  else await putRecords(store, cache, records);
}

/**
 * Write cache records only once the trees and blobs they vouch for are durable (a store that
 * can flush does so first): after a power loss a record may be missing, never a file it names.
 */
async function putRecords(
  store: ScanStore,
  cache: KvDb | undefined,
  records: readonly [Buffer, Buffer][],
): Promise<void> {
  if (cache === undefined || records.length === 0) return;
  await store.flush?.();
  await Promise.all(records.map(([k, v]) => cache.put(k, v)));
}

/** The tree entry lstat describes (no content id: that needs the content read). */
function entryFromStat(p: Buffer, name: string, st: FileStat): Entry | undefined {
  if (st.kind !== 'symlink') return entryOfFields(name, st);
  try {
    return entryOfFields(name, st, byteString(readlinkSync(p, { encoding: 'buffer' })));
  } catch (err) {
    if (isMissing(err)) return undefined; // gone since the listing
    throw err;
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
  strict: boolean,
): Promise<Hash> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof TetherError) throw err;
    throw problemError(err, path, root, 'read', strict);
  }
}

/** The directory \`path\` is in ('' for the root's entries). */
function parentOf(path: Path): Path {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
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

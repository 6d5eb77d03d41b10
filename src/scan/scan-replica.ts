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
import { isTetherError, TetherError } from '../errors.js';
import { hashOf, Limiter, normalize, parentOf, reuse, sameLeaf } from './scan-leaf.js';
import type { ScanOptions, ScanStore } from './scan-options.js';
import { putRecords } from './cache-learn.js';
import type { Path } from '../merge/plan.js';
import {
  display,
  encodeParts,
  joinPath,
  type EncodedParts,
  type Entry,
  type Hash,
  type Part,
} from '../tree/index.js';
import { entryOfFields, isMissing } from './fs-entry.js';
import type { DirListing, FileStat } from './list-dir.js';
import { isPathProblem, problemError } from './path-problem.js';
import { asBytes } from '../store/kv.js';
import { TEMP_PREFIX } from './temp-name.js';
import { decodeRecord, encodeRecord, keyOf, rangeOf, type DirRecord } from './dir-record.js';
import { DirListingView, TreeCursor } from './old-listing.js';
import { MTIME_WINDOW_NS, RACY_NS } from './stamp.js';
import { dirLister, type Lister } from './lister.js';

export { HeldRecords, type ScanOptions, type ScanStore } from './scan-options.js';
export { learnIds } from './cache-learn.js';

/** At most this many files are hashed at once. */
const PARALLEL = 16;

/** A tree id the scan has, or lazily finds (known trees are decoded only where needed). */
type LazyId = () => Hash | undefined;

export async function scanReplica(
  store: ScanStore,
  root: string,
  opts: ScanOptions,
): Promise<Hash> {
  const lister = opts.lister ?? dirLister(root);
  const readAttrs = opts.xattrs ?? true;
  const window = opts.mtimeWindowNs ?? MTIME_WINDOW_NS;
  const read = (path: Path, st: FileStat): Promise<Hash> =>
    opts.read === undefined ? lister.hash(path) : opts.read(lister.reach(path), path, st);
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
    const rec = recordOf(dir);
    let list: DirListing;
    try {
      list = await lister.list(
        dir,
        readAttrs,
        rec?.withXattrs === true && readAttrs
          ? { listing: rec.listing, cutoffUs: rec.cutoffUs }
          : undefined,
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
    const oldTree = rec === undefined ? undefined : rec.tree.toString('hex');
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
      rec.reusable &&
      rec.latestUs < racySinceUs &&
      rec.excluded === excl &&
      (baseBuf.equals(rec.baseTree) || baseBuf.equals(rec.tree)) &&
      list.equals(rec.listing)
    ) {
      // Unchanged here: the old tree holds, but for what changed below. (It is in the store:
      // records are written once what they name is durable, and objects leave the store only
      // by fsck --repair, which drops every cache.) Base is what it was
      // then, or (after a sync) exactly that old tree, which normalizes and lends ids to
      // nothing the old tree does not already have.
      const sameBase = baseBuf.equals(rec.baseTree);
      opts.onFiles?.(rec.files, rec.bytes);
      const ids = await Promise.all(
        rec.dirs.map(([name, id, b]) => {
          const childBase = sameBase ? b : id;
          return scanDir(
            joinPath(dir, name),
            childBase.length === 0 ? undefined : childBase.toString('hex'),
            knownBelow(name, id),
          );
        }),
      );
      if (ids.every((id, i) => id === rec.dirs[i]![1].toString('hex'))) return oldTree!;
      // The same listing, so the same parts: each entry's bytes are copied but for the
      // subdirectories', whose ids changed (or which vanished meanwhile).
      const now = new Map(rec.dirs.map(([name], i) => [name, ids[i]]));
      const old = store.readTree(oldTree!);
      const parts: Part[] = new Array<Part>(list.count);
      const dirs: Entry[] = [];
      let k = 0;
      for (let i = 0; i < list.count; i++) {
        if (rec.spans[2 * i + 1] === 0) continue;
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
      const enc = encodeParts(parts, { bytes: store.treeBytes(oldTree!), spans: rec.spans });
      store.putTreeBytes(enc.bytes, enc.id);
      return remember(dir, list, rec, enc.id, enc.spans, dirs, baseBuf, excl, rec.reusable);
    }

    // Entry by entry, in the listing's order: the order of name bytes, which is the tree's.
    let baseMap: ReadonlyMap<string, Entry> | undefined;
    const baseEntry = (name: string): Entry | undefined => (baseMap ??= listing(baseId)).get(name);
    // Old entries were normalized against a base (so their mtime may not be the file's).
    const rawBase = rec !== undefined && rec.baseTree.length > 0;
    // An entry the old listing vouches for (the same lstat, not racy) is its old tree entry
    // again, byte for byte, when what that entry was made from is unchanged too:
    // - base's entry: base here is what it was then, or this entry is base's exactly, or
    //   base's entry of this name is byte for byte what it was then (or absent both times);
    // - no id a known tree could now lend: the entry has its id (as every file of a 'hash'
    //   scan has), or each known tree here is the old tree itself, whose entry lends nothing
    //   the old entry lacks.
    // Such entries are copied as bytes: neither tree is decoded, nor the entry encoded again.
    // (The same reasoning as the whole-directory shortcut above, entry by entry.)
    const copy = rec !== undefined && rec.excluded === excl && opts.onEntry === undefined;
    const baseThen = copy && (baseBuf.equals(rec.baseTree) || baseBuf.equals(rec.tree));
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
      baseWas ??= cursorOf(rawBase ? rec.baseTree.toString('hex') : undefined);
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
          await lister.removeTemp(joinPath(dir, name));
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
      let e =
        st.kind === 'symlink'
          ? await symlinkEntry(lister, path, name, st)
          : entryOfFields(name, st);
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
          xattrs = await lister.xattrs(path);
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
            knownBelow(name, (oldDirs ??= new Map(rec?.dirs.map(([n, id]) => [n, id]))).get(name)),
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
              .run(() => hashOf(path, root, () => read(path, st), opts.problems === undefined))
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
    const counts = { files, bytes, latestUs: latest };
    const spans = copied ? undefined : old?.same(parts);
    if (spans !== undefined) {
      // Every entry is the old one: the old tree, without encoding it again.
      return remember(dir, list, counts, oldTree!, spans, dirs, baseBuf, excl, !temps);
    }
    let enc: EncodedParts;
    try {
      enc = encodeParts(
        parts,
        copied ? { bytes: store.treeBytes(oldTree!), spans: rec!.spans } : undefined,
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
    counts: { files: number; bytes: number; latestUs: number },
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
      listing: list.raw,
      tree: Buffer.from(id, 'hex'),
      baseTree: baseBuf,
      excluded: excl,
      reusable: clean && counts.latestUs < cutoffUs,
      withXattrs: readAttrs,
      latestUs: counts.latestUs,
      cutoffUs,
      dirs: d,
      files: counts.files,
      bytes: counts.bytes,
      spans,
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
    for (const [name] of rec.dirs) {
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

/** A symlink's tree entry, its target read through the lister; undefined once it is gone. */
async function symlinkEntry(
  lister: Lister,
  path: Path,
  name: string,
  st: FileStat,
): Promise<Entry | undefined> {
  try {
    return entryOfFields(name, st, await lister.readlink(path));
  } catch (err) {
    if (isMissing(err)) return undefined; // gone since the listing
    throw err;
  }
}

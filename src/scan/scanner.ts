// One scan of a replica (scan-replica.ts's header says what it decides): the scan-wide context
// (the lister, the stamp rules, the cache, what is excluded, the records to write) and its
// steps per directory — list it, reuse its cached tree whole when its listing is unchanged,
// else look at it entry by entry (dir-scan.ts), recurse, and record what was made of it.
import { isTetherError, TetherError } from '../errors.js';
import { hashOf, Limiter, normalize, reuse } from './scan-leaf.js';
import type { ScanOptions, ScanStore } from './scan-options.js';
import { putRecords } from './cache-learn.js';
import type { Path } from '../merge/plan.js';
import {
  display,
  encodeParts,
  joinPath,
  parentOf,
  type EncodedParts,
  type Entry,
  type Hash,
  type Part,
} from '../tree/index.js';
import { isMissing } from './fs-entry.js';
import type { DirListing, FileStat } from './list-dir.js';
import { problemError } from './path-problem.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { decodeRecord, encodeRecord, keyOf, rangeOf, type DirRecord } from './dir-record.js';
import { MTIME_WINDOW_NS, RACY_NS } from './stamp.js';
import { dirLister, type Lister } from './lister.js';
import { DirScan, EMPTY } from './dir-scan.js';

/** At most this many files are hashed at once. */
const PARALLEL = 16;

/** A tree id the scan has, or lazily finds (known trees are decoded only where needed). */
export type LazyId = () => Hash | undefined;

/** One directory as a scan found it: what every step of its scan reads. */
export interface DirAt {
  readonly dir: Path;
  /** Base's tree here (undefined: none), and as bytes (empty: none). */
  readonly baseId: Hash | undefined;
  readonly baseBuf: Buffer;
  /** Trees that may lend ids by stamp here (ScanOptions.known, at this directory). */
  readonly known: readonly LazyId[];
  /** The cache's record of the last scan here, and the tree it holds. */
  readonly rec: DirRecord | undefined;
  readonly oldTree: Hash | undefined;
  readonly list: DirListing;
  /** The names excluded here, as a record keeps them. */
  readonly excl: string;
  /**
   * Known trees lend ids to stamp-only files (which only stamp scans keep), by stamp. Where
   * each known tree here is the old tree itself, its entries lend nothing the old entries
   * lack; and below, each is the old tree's subdirectory of the same name.
   */
  readonly knownOld: boolean;
}

/** What a directory's scan counted (a record keeps it, for progress and the racy guard). */
export interface DirCounts {
  readonly files: number;
  readonly bytes: number;
  readonly latestUs: number;
}

/** The listing could not be made: the directory is gone, or is left as base has it. */
type Unlisted = 'gone' | 'left';

export class Scanner {
  readonly lister: Lister;
  readonly readAttrs: boolean;
  readonly window: bigint;
  /**
   * What a stamp may decide (DESIGN decision 16). In a 'hash' scan (the local replica, a
   * snapshot) a content id is taken unread only through the scan cache, whose listing compares
   * size, mtime, ctime, inode and device (git's index rule), with the racy guard on the later
   * of mtime and ctime: a rewrite that keeps size and mtime (cp -p, touch -r, tar x) or a swap
   * of two files changes ctime and inode. In a 'stamp' scan (the server, where sshfs and some
   * NFS renumber inodes and fake ctime) size and mtime decide, as MERGE.md allows: a path
   * changed on both sides is hashed before the merge (both-changed.ts).
   */
  readonly stampsLend: boolean;
  /** Directories in which something could not be read (see remember). */
  readonly troubled = new Set<Path>();
  private readonly cache: KvDb | undefined;
  private readonly cutoffUs: number;
  private readonly racySinceUs: number;
  private readonly limit = new Limiter(PARALLEL);
  private readonly writes: Promise<unknown>[] = [];
  /** Records to write once what they name is on disk (see run). */
  private readonly records: [Buffer, Buffer][] = [];
  private readonly excluded = new Map<Path, string[]>();
  private readonly listings = new Map<Hash, Map<string, Entry>>();

  constructor(
    readonly store: ScanStore,
    readonly root: string,
    readonly opts: ScanOptions,
  ) {
    this.lister = opts.lister ?? dirLister(root);
    if (opts.read !== undefined && this.lister.reach === undefined) {
      throw new TetherError(
        'EUSAGE',
        `a scan that reads content itself needs a lister of a path this process reads (${root} is not one)`,
      );
    }
    this.readAttrs = opts.xattrs ?? true;
    this.window = opts.mtimeWindowNs ?? MTIME_WINDOW_NS;
    const startNs = opts.startNs ?? BigInt(Date.now()) * 1_000_000n;
    const margin = this.window > RACY_NS ? this.window : RACY_NS;
    this.cutoffUs = Number((startNs - margin) / 1000n);
    this.racySinceUs = opts.racySinceNs === undefined ? Infinity : Number(opts.racySinceNs / 1000n);
    this.cache = opts.cache;
    this.stampsLend = opts.content === 'stamp';
    for (const p of opts.exclude ?? []) {
      const slash = p.lastIndexOf('/');
      const dir = slash < 0 ? '' : p.slice(0, slash);
      this.excluded.set(dir, [...(this.excluded.get(dir) ?? []), p.slice(slash + 1)]);
    }
  }

  /** Scan the whole replica; its records are written (or held) once its writes are done. */
  async run(): Promise<Hash> {
    const rootKnown = (this.opts.known ?? []).map(
      (id): LazyId =>
        () =>
          id,
    );
    const id = await this.dir('', this.opts.base, rootKnown);
    await Promise.all(this.writes);
    if (this.opts.hold !== undefined && this.cache !== undefined) {
      this.opts.hold.adopt(this.cache, this.records);
    } else await putRecords(this.store, this.cache, this.records);
    return id!;
  }

  /** The tree of `dir`, or undefined when the directory vanished before it was listed. */
  async dir(
    dir: Path,
    baseId: Hash | undefined,
    known: readonly LazyId[],
  ): Promise<Hash | undefined> {
    const rec = this.recordOf(dir);
    const list = await this.list(dir, rec);
    if (list === 'gone') return undefined;
    if (list === 'left') return baseId;
    this.opts.onListing?.(dir, list);
    const oldTree = rec === undefined ? undefined : rec.tree.toString('hex');
    const at: DirAt = {
      dir,
      baseId,
      baseBuf: baseId === undefined ? EMPTY : Buffer.from(baseId, 'hex'),
      known,
      rec,
      oldTree,
      list,
      excl: this.exclKey(dir),
      knownOld:
        rec !== undefined && (this.opts.content === 'hash' || known.every((k) => k() === oldTree)),
    };
    if (this.unchanged(at)) return this.reuseWhole(at, at.rec!);
    return new DirScan(this, at).run();
  }

  /** List `dir`, or say why it is not listed (a problem there is kept: ScanOptions.problems). */
  private async list(dir: Path, rec: DirRecord | undefined): Promise<DirListing | Unlisted> {
    try {
      return await this.lister.list(
        dir,
        this.readAttrs,
        rec?.withXattrs === true && this.readAttrs
          ? { listing: rec.listing, cutoffUs: rec.cutoffUs }
          : undefined,
      );
    } catch (err) {
      if (dir !== '' && isMissing(err)) return 'gone'; // gone since its parent was listed
      const problems = this.opts.problems;
      const problem = problemError(err, dir, this.root, 'list', problems === undefined);
      if (dir === '' || problems === undefined) throw problem;
      // Left as base has it; the parent keeps no record of this scan (troubled), so the next
      // scan lists it again rather than trusting what was put in its place.
      problems.push({
        path: dir,
        reason: problem.message,
        ...(problem.errno === undefined ? {} : { code: problem.errno }),
      });
      this.troubled.add(parentOf(dir));
      return 'left';
    }
  }

  /**
   * The directory is as the cache's record has it: the same listing, byte for byte, the same
   * names excluded, the same base (or, after a sync, base is that old tree), nothing changed
   * too close to that scan, and no known tree that could lend what the old tree lacks.
   */
  private unchanged(at: DirAt): boolean {
    const rec = at.rec;
    return (
      at.knownOld &&
      rec !== undefined &&
      rec.reusable &&
      rec.latestUs < this.racySinceUs &&
      rec.excluded === at.excl &&
      (at.baseBuf.equals(rec.baseTree) || at.baseBuf.equals(rec.tree)) &&
      at.list.equals(rec.listing)
    );
  }

  /**
   * An unchanged directory: the old tree holds, but for what changed below. (It is in the
   * store: records are written once what they name is durable, and objects leave the store only
   * by fsck --repair, which drops every cache.) Base is what it was then, or (after a sync)
   * exactly that old tree, which normalizes and lends ids to nothing the old tree does not
   * already have.
   */
  private async reuseWhole(at: DirAt, rec: DirRecord): Promise<Hash> {
    const oldTree = at.oldTree!;
    const sameBase = at.baseBuf.equals(rec.baseTree);
    this.opts.onFiles?.(rec.files, rec.bytes);
    const ids = await Promise.all(
      rec.dirs.map(([name, id, b]) => {
        const childBase = sameBase ? b : id;
        return this.dir(
          joinPath(at.dir, name),
          childBase.length === 0 ? undefined : childBase.toString('hex'),
          this.knownBelow(at, name, id),
        );
      }),
    );
    if (ids.every((id, i) => id === rec.dirs[i]![1].toString('hex'))) return oldTree;
    // The same listing, so the same parts: each entry's bytes are copied but for the
    // subdirectories', whose ids changed (or which vanished meanwhile).
    const now = new Map(rec.dirs.map(([name], i) => [name, ids[i]]));
    const old = this.store.readTree(oldTree);
    const parts: Part[] = new Array<Part>(at.list.count);
    const dirs: Entry[] = [];
    let k = 0;
    for (let i = 0; i < at.list.count; i++) {
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
    const enc = encodeParts(parts, { bytes: this.store.treeBytes(oldTree), spans: rec.spans });
    this.store.putTreeBytes(enc.bytes, enc.id);
    return this.remember(at, rec, enc.id, enc.spans, dirs, rec.reusable);
  }

  /** The known trees at subdirectory `name` of `at` (`oldId`: its tree in the old record). */
  knownBelow(at: DirAt, name: string, oldId: Buffer | undefined): LazyId[] {
    return at.knownOld && this.opts.content !== 'hash' && oldId !== undefined
      ? at.known.map(() => () => oldId.toString('hex'))
      : at.known.map((k) => this.childOf(k, name));
  }

  /** The entries of tree `id` by name (decoded once per scan). */
  listing(id: Hash | undefined): ReadonlyMap<string, Entry> {
    if (id === undefined) return NONE;
    let l = this.listings.get(id);
    if (l === undefined) {
      l = new Map(this.store.readTree(id).map((e) => [e.name, e]));
      this.listings.set(id, l);
    }
    return l;
  }

  private childOf(parent: LazyId, name: string): LazyId {
    return () => {
      const e = this.listing(parent()).get(name);
      return e?.kind === 'dir' ? e.id : undefined;
    };
  }

  /** The names excluded in `dir` (ScanOptions.exclude). */
  excludedIn(dir: Path): readonly string[] | undefined {
    return this.excluded.get(dir);
  }

  private exclKey(dir: Path): string {
    return (this.excluded.get(dir) ?? []).sort().join('\0');
  }

  /** The cache's record of `dir` (an unreadable one is only a missed shortcut). */
  private recordOf(dir: Path): DirRecord | undefined {
    if (this.cache === undefined) return undefined;
    const v = asBytes(this.cache.get(keyOf(dir)));
    return v === undefined ? undefined : decodeRecord(v);
  }

  /** The content id of a file read now (bounded: PARALLEL at once). */
  hash(path: Path, st: FileStat): Promise<Hash> {
    const { read: own } = this.opts;
    const reach = this.lister.reach!; // defined wherever `own` is (the constructor checks)
    const read =
      own === undefined
        ? (): Promise<Hash> => this.lister.hash(path)
        : (): Promise<Hash> => own(reach(path), path, st);
    return this.limit.run(() => hashOf(path, this.root, read, this.opts.problems === undefined));
  }

  /**
   * The entry for a leaf the old listing vouches for: the old entry, but for its mtime, which
   * may have been set to the old base's (normalize) and is judged against base anew, and a
   * stamp-only file's id, which base or a known tree may now lend by its stamp. Undefined for
   * a file whose content must still be read.
   */
  vouched(
    was: Entry,
    raw: bigint,
    b: Entry | undefined,
    known: readonly LazyId[],
    name: string,
  ): Entry | undefined {
    let e = was.mtimeNs === raw ? was : { ...was, mtimeNs: raw };
    if (e.kind === 'file' && e.id === undefined) {
      const id = this.stampsLend ? this.lent(e, b, known, name) : undefined;
      if (id !== undefined) e = { ...e, id };
      else if (this.opts.content === 'hash') return undefined;
    }
    return b !== undefined ? normalize(e, b, this.window) : e;
  }

  /** The id base or a known tree lends file `e` by its stamp, if any. */
  lent(e: Entry, b: Entry | undefined, known: readonly LazyId[], name: string): Hash | undefined {
    return reuse(e, [b, ...known.map((k) => this.listing(k()).get(name))], this.window);
  }

  /** The tree of `parts` (entries, or indexes of the old tree's entries to copy as bytes). */
  encode(at: DirAt, parts: readonly Part[], copied: boolean): EncodedParts {
    try {
      return encodeParts(
        parts,
        copied ? { bytes: this.store.treeBytes(at.oldTree!), spans: at.rec!.spans } : undefined,
      );
    } catch (err) {
      if (!copied || isTetherError(err, 'ENOTFOUND') || isTetherError(err, 'ECORRUPT')) throw err;
      const dir = at.dir;
      throw new TetherError(
        'EBADTREE',
        `the scan cache of ${display(dir === '' ? this.root : dir)} does not fit its tree (${(err as Error).message}); ` +
          'run "tether fsck --repair", which drops the caches, and scan again',
        { path: display(dir) },
        { cause: err },
      );
    }
  }

  /** Keep the directory's record (its listing and the tree made of it) for the next scan. */
  remember(
    at: DirAt,
    counts: DirCounts,
    id: Hash,
    spans: Uint32Array,
    dirs: readonly Entry[],
    clean: boolean,
  ): Hash {
    // A directory with a problem in it holds entries put in place of what could not be read:
    // no record vouches for them next time.
    if (this.cache === undefined || this.troubled.has(at.dir)) return id;
    const base = this.listing(at.baseBuf.length === 0 ? undefined : at.baseBuf.toString('hex'));
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
      listing: at.list.raw,
      tree: Buffer.from(id, 'hex'),
      baseTree: at.baseBuf,
      excluded: at.excl,
      reusable: clean && counts.latestUs < this.cutoffUs,
      withXattrs: this.readAttrs,
      latestUs: counts.latestUs,
      cutoffUs: this.cutoffUs,
      dirs: d,
      files: counts.files,
      bytes: counts.bytes,
      spans,
    };
    this.records.push([keyOf(at.dir), encodeRecord(r)]);
    return id;
  }

  /** Records of subdirectories that are no longer there go with them. */
  dropGone(dir: Path, rec: DirRecord, dirs: readonly Entry[]): void {
    const cache = this.cache;
    if (cache === undefined) return;
    const still = new Set(dirs.map((e) => e.name));
    for (const [name] of rec.dirs) {
      if (still.has(name)) continue;
      const prefix = keyOf(joinPath(dir, name));
      // Past RAW_KEY bytes this may take records of a sibling that shares the first RAW_KEY
      // bytes too: a cache record dropped is only a shortcut lost.
      const sub = rangeOf(Buffer.from('/' + joinPath(dir, name) + '/', 'latin1'));
      this.writes.push(cache.remove(prefix));
      for (const { key } of cache.getRange({ start: sub })) {
        const k = asBytes(key);
        if (k === undefined || !k.subarray(0, sub.length).equals(sub)) break;
        this.writes.push(cache.remove(Buffer.from(k)));
      }
    }
  }
}

const NONE: ReadonlyMap<string, Entry> = new Map();

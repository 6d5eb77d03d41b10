// One changed directory, looked at entry by entry in the listing's order (the order of name
// bytes, which is the tree's), one method per way an entry is settled: copied as bytes from
// the old tree, a temp file, a leaf the old listing vouches for, and a fresh entry by kind (a
// symlink's target read, xattrs read, a subdirectory recursed into, a file's id lent by its
// stamp or its content read). Then the tree made of the parts is stored and recorded.
import { isPathProblem, problemError } from './path-problem.js';
import { normalize, sameLeaf } from './scan-leaf.js';
import type { Path } from '../merge/plan.js';
import { joinPath, type Entry, type Hash, type Part } from '../tree/index.js';
import { entryOfFields, isMissing } from './fs-entry.js';
import type { FileStat } from './list-dir.js';
import type { Lister } from './lister.js';
import { TEMP_PREFIX } from './temp-name.js';
import { DirListingView, TreeCursor } from './old-listing.js';
import type { DirAt, Scanner } from './scanner.js';

/** No bytes: an empty id, listing or tree. */
export const EMPTY = Buffer.alloc(0);

export class DirScan {
  private readonly parts: Part[];
  /** Subdirectories scanned and files read, in flight. */
  private readonly waits: Promise<void>[] = [];
  private temps = false;
  private files = 0;
  private bytes = 0;
  /** The old listing, as the stat cache of the entries here (when the cache has a record). */
  private readonly old: DirListingView | undefined;
  /** Old entries were normalized against a base (so their mtime may not be the file's). */
  private readonly rawBase: boolean;
  /**
   * An entry the old listing vouches for (the same lstat, not racy) is its old tree entry
   * again, byte for byte, when what that entry was made from is unchanged too:
   * - base's entry: base here is what it was then, or this entry is base's exactly, or
   *   base's entry of this name is byte for byte what it was then (or absent both times);
   * - no id a known tree could now lend: the entry has its id (as every file of a 'hash'
   *   scan has), or each known tree here is the old tree itself, whose entry lends nothing
   *   the old entry lacks.
   * Such entries are copied as bytes: neither tree is decoded, nor the entry encoded again.
   * (The same reasoning as the whole-directory shortcut, Scanner.reuseWhole, entry by entry.)
   */
  private readonly copy: boolean;
  private readonly baseThen: boolean;
  private readonly excludedHere: readonly string[] | undefined;
  private baseMap: ReadonlyMap<string, Entry> | undefined;
  private oldDirs: Map<string, Buffer> | undefined;
  private baseNow: TreeCursor | undefined;
  private baseWas: TreeCursor | undefined;

  constructor(
    private readonly s: Scanner,
    private readonly at: DirAt,
  ) {
    const rec = at.rec;
    this.rawBase = rec !== undefined && rec.baseTree.length > 0;
    this.copy = rec !== undefined && rec.excluded === at.excl && s.opts.onEntry === undefined;
    this.baseThen = this.copy && (at.baseBuf.equals(rec!.baseTree) || at.baseBuf.equals(rec!.tree));
    this.old = rec === undefined ? undefined : new DirListingView(at.list, rec, s.store, this.copy);
    this.parts = new Array<Part>(at.list.count);
    this.excludedHere = s.excludedIn(at.dir);
  }

  /** The directory's tree (stored, and recorded in the cache). */
  async run(): Promise<Hash> {
    for (let i = 0; i < this.at.list.count; i++) {
      // Most entries settle at once; only reads the lister makes are waited for here.
      const wait = this.entry(i);
      if (wait !== undefined) await wait;
    }
    if (this.waits.length > 0) await Promise.all(this.waits);
    return this.made();
  }

  /** Settle entry i (a promise when it waits on the lister). */
  private entry(i: number): Promise<void> | undefined {
    // (Temp files and excluded names are never in the old tree: not copied.)
    if (this.copy && this.copied(i)) return undefined;
    const list = this.at.list;
    const name = list.name(i);
    if (name.startsWith(TEMP_PREFIX)) return this.temp(name);
    if (this.excludedHere?.includes(name) === true) return undefined;
    const b = (this.baseMap ??= this.s.listing(this.at.baseId)).get(name);
    const was = this.old?.unchanged(i, name);
    if (was !== undefined && was.kind !== 'dir' && this.vouched(i, name, was, b)) return undefined;
    const st = list.stat(i);
    if (st.kind === 'symlink') return this.symlink(i, name, st, b, was);
    const e = entryOfFields(name, st);
    return e === undefined ? undefined : this.found(i, e, st, b, was);
  }

  /** Entry i is its old tree entry, byte for byte (see `copy`): its part is that entry's index. */
  private copied(i: number): boolean {
    const old = this.old!;
    const list = this.at.list;
    const j = old.match(i);
    if (j < 0 || !old.inTree(j) || list.kind(i) === 'dir') return false;
    if (!(this.at.knownOld || !old.stampOnly(j)) || !this.sameBase(j)) return false;
    this.parts[i] = j;
    if (list.kind(i) === 'file') this.count(list.size(i));
    return true;
  }

  /** Base's entry of old listing entry j's name is what it was at the last scan. */
  private sameBase(j: number): boolean {
    if (this.baseThen) return true;
    const old = this.old!;
    const bytes = old.bytes();
    this.baseNow ??= cursorOf(this.s, this.at.baseId);
    const k = this.baseNow.find(bytes, old.start(j));
    if (k >= 0 && this.baseNow.equals(k, bytes, old.start(j), old.end(j))) return true;
    this.baseWas ??= cursorOf(
      this.s,
      this.rawBase ? this.at.rec!.baseTree.toString('hex') : undefined,
    );
    const w = this.baseWas.find(bytes, old.start(j));
    return k < 0 ? w < 0 : w >= 0 && this.baseNow.sameAs(k, this.baseWas, w);
  }

  /** A temp file left by a run that was killed mid-write: never part of the tree. */
  private temp(name: string): Promise<void> | undefined {
    this.temps = true;
    if (this.s.opts.removeTemps !== true) return undefined;
    return this.s.lister.removeTemp(joinPath(this.at.dir, name));
  }

  /** A leaf the old listing vouches for (Scanner.vouched); false when it must be read. */
  private vouched(i: number, name: string, was: Entry, b: Entry | undefined): boolean {
    // The file's own mtime is needed only where it may differ from the old entry's (that
    // was normalized against an old base) and base does not settle it.
    const settled = b === undefined ? !this.rawBase : b.mtimeNs === was.mtimeNs && sameLeaf(b, was);
    const raw = settled ? was.mtimeNs : this.at.list.mtimeNs(i);
    const e = this.s.vouched(was, raw, b, this.at.known, name);
    if (e === undefined) return false;
    this.s.opts.onEntry?.(joinPath(this.at.dir, name));
    if (e.kind === 'file') this.count(e.size);
    this.parts[i] = e;
    return true;
  }

  /** A symlink: its target read through the lister (left out once it is gone). */
  private async symlink(
    i: number,
    name: string,
    st: FileStat,
    b: Entry | undefined,
    was: Entry | undefined,
  ): Promise<void> {
    const e = await symlinkEntry(this.s.lister, joinPath(this.at.dir, name), name, st);
    if (e !== undefined) return this.found(i, e, st, b, was);
  }

  /** An entry made from its stat: counted, its xattrs found, then placed by kind. */
  private found(
    i: number,
    e: Entry,
    st: FileStat,
    b: Entry | undefined,
    was: Entry | undefined,
  ): Promise<void> | undefined {
    const path = joinPath(this.at.dir, e.name);
    this.s.opts.onEntry?.(path);
    if (e.kind === 'file') this.count(st.size);
    if (was !== undefined) {
      // An entry the old listing vouches for (a directory, or a file to read again): its
      // xattrs are as they were.
      if (was.xattrs !== undefined) e = { ...e, xattrs: was.xattrs };
    } else if (this.s.readAttrs && st.userXattrs && (e.kind === 'file' || e.kind === 'dir')) {
      return this.withXattrs(i, path, e, st, b);
    }
    this.place(i, path, e, st, b);
    return undefined;
  }

  /** The entry with its xattrs read; one that cannot be read is left as base has it. */
  private async withXattrs(
    i: number,
    path: Path,
    e: Entry,
    st: FileStat,
    b: Entry | undefined,
  ): Promise<void> {
    let xattrs;
    try {
      xattrs = await this.s.lister.xattrs(path);
    } catch (err) {
      const strict = this.s.opts.problems === undefined;
      const problem = problemError(err, path, this.s.root, 'read', strict);
      if (strict) throw problem;
      this.leftAsBase(i, path, problem.message, b);
      return;
    }
    this.place(i, path, xattrs === undefined ? e : { ...e, xattrs }, st, b);
  }

  private place(i: number, path: Path, e: Entry, st: FileStat, b: Entry | undefined): void {
    if (e.kind === 'dir') {
      this.subdir(i, path, e, b);
      return;
    }
    const leaf = e.kind === 'file' ? this.file(i, path, e, st, b) : e;
    if (leaf !== undefined)
      this.parts[i] = b !== undefined ? normalize(leaf, b, this.s.window) : leaf;
  }

  /** A subdirectory: scanned (concurrently with the rest), its entry taking the tree made. */
  private subdir(i: number, path: Path, d: Entry, b: Entry | undefined): void {
    const childBase = b?.kind === 'dir' ? b.id : undefined;
    this.oldDirs ??= new Map(this.at.rec?.dirs.map(([n, id]) => [n, id]));
    const known = this.s.knownBelow(this.at, d.name, this.oldDirs.get(d.name));
    this.waits.push(
      this.s.dir(path, childBase, known).then((id) => {
        if (id !== undefined) this.parts[i] = { ...d, id };
      }),
    );
  }

  /**
   * A regular file: a placeholder's entry, an id lent by its stamp, or its content read. The
   * entry to place as it is (normalized against base), or undefined when it is settled here.
   */
  private file(
    i: number,
    path: Path,
    e: Entry,
    st: FileStat,
    b: Entry | undefined,
  ): Entry | undefined {
    const opts = this.s.opts;
    const ph = opts.placeholder?.(path, st);
    if (ph === true && b?.kind === 'file') {
      this.parts[i] = { ...b, mode: e.mode, uid: e.uid, gid: e.gid };
      return undefined;
    }
    if (ph === null) return undefined;
    if (typeof ph === 'object') {
      this.parts[i] = { ...ph, name: e.name, mode: e.mode, uid: e.uid, gid: e.gid };
      return undefined;
    }
    if (e.id !== undefined) return e;
    // Racy: changed too close to the last run for its stamp to tell. Or, where the replica
    // keeps them, its ctime or inode tell what its stamp does not.
    const racy =
      (opts.racySinceNs !== undefined && st.mtimeNs >= opts.racySinceNs) ||
      (opts.stableStat === true && this.old !== undefined && this.old.stampHides(i));
    // Size and mtime alone lend an id only in a 'stamp' scan (Scanner.stampsLend).
    const id = racy || !this.s.stampsLend ? undefined : this.s.lent(e, b, this.at.known, e.name);
    if (id !== undefined) return { ...e, id };
    if (opts.content !== 'hash' && !racy) return e; // known by its stamp only
    this.waits.push(
      this.s.hash(path, st).then(
        (hid) => {
          const h = { ...e, id: hid };
          this.parts[i] = b !== undefined ? normalize(h, b, this.s.window) : h;
        },
        (err: unknown) => {
          if (opts.problems === undefined || !isPathProblem(err)) throw err;
          this.leftAsBase(i, path, err.message, b);
        },
      ),
    );
    return undefined;
  }

  /**
   * What could not be read is said (ScanOptions.problems) and left as base has it; this
   * directory keeps no record of this scan.
   */
  private leftAsBase(i: number, path: Path, reason: string, b: Entry | undefined): void {
    this.s.opts.problems!.push({ path, reason });
    this.s.troubled.add(this.at.dir);
    if (b !== undefined && b.kind !== 'dir') this.parts[i] = b;
  }

  private count(size: number): void {
    this.files++;
    this.bytes += size;
  }

  /** The tree of the parts: the old tree itself when every entry is the old one, else encoded. */
  private made(): Hash {
    const { s, at, parts } = this;
    s.opts.onFiles?.(this.files, this.bytes);
    const counts = { files: this.files, bytes: this.bytes, latestUs: at.list.latestMtimeUs() };
    const dirs: Entry[] = [];
    let copied = false;
    for (const e of parts) {
      if (typeof e === 'number') copied = true;
      else if (e?.kind === 'dir') dirs.push(e);
    }
    if (at.rec !== undefined) s.dropGone(at.dir, at.rec, dirs);
    const spans = copied ? undefined : this.old?.same(parts);
    if (spans !== undefined) {
      // Every entry is the old one: the old tree, without encoding it again.
      return s.remember(at, counts, at.oldTree!, spans, dirs, !this.temps);
    }
    const enc = s.encode(at, parts, copied);
    s.store.putTreeBytes(enc.bytes, enc.id);
    return s.remember(at, counts, enc.id, enc.spans, dirs, !this.temps);
  }
}

function cursorOf(s: Scanner, id: Hash | undefined): TreeCursor {
  return new TreeCursor(id === undefined ? EMPTY : Buffer.from(s.store.treeBytes(id)));
}

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

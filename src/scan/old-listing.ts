// The last scan's listing of a directory as the stat cache of its entries, and a cursor over a
// tree's encoding that finds entries by name in ascending order (scan-replica.ts).
import {
  decodeEntryAt,
  entriesEqual,
  entryNameAt,
  isStampOnlyFileAt,
  skimEntries,
  type Entry,
  type Part,
  type Tree,
  type TreeReader,
} from '../tree/index.js';
import type { DirRecord } from './dir-record.js';
import { DirListing, matchListings } from './list-dir.js';

/** What the old listing reads of the store: the old tree, as entries or as its encoding. */
export type OldTrees = TreeReader & { has(id: string): boolean; treeBytes(id: string): Buffer };

/**
 * The last scan's listing of a directory, as the stat cache of its entries. Asked in name
 * order (the order of a listing), it walks the old listing alongside. Old tree entries are
 * decoded all at once, or one by one from their spans where few are wanted (`sparse`).
 */
export class DirListingView {
  private readonly listing: DirListing;
  /** For each entry now, the old entry with the same name and stat, or -1. */
  private readonly matches: Int32Array;
  private tree: Tree | undefined;
  private k = 0;
  constructor(
    private readonly now: DirListing,
    private readonly rec: DirRecord,
    private readonly store: OldTrees,
    private readonly sparse: boolean,
  ) {
    this.listing = new DirListing(rec.listing);
    this.matches = matchListings(now, this.listing);
  }

  /**
   * The old listing's index of entry i now when its stat is exactly as then and it was not
   * racy, or -1.
   */
  match(i: number): number {
    const j = this.matches[i]!;
    // Racy: changed too close to that scan for its stamp to vouch (no entry was, if the latest was not).
    // Safe because the listing compares every stat field a write changes (size, mtime, ctime,
    // inode, device) and a change inside the clock's granule after the listing would leave
    // mtime or ctime at or after the cutoff; if neither held, the entry is read again.
    if (
      j < 0 ||
      (this.rec.latestUs >= this.rec.cutoffUs && this.listing.changedUs(j) >= this.rec.cutoffUs)
    )
      return -1;
    return j;
  }

  /**
   * Entry i now has the size and mtime of the old entry of its name, but another ctime or
   * inode: changed behind an unchanged stamp.
   */
  stampHides(i: number): boolean {
    const now = this.now;
    let j = 0;
    while (j < this.listing.count && now.compareName(i, this.listing, j) > 0) j++;
    if (j >= this.listing.count || now.compareName(i, this.listing, j) !== 0) return false;
    const [a, b] = [now.stat(i), this.listing.stat(j)];
    return (
      a.size === b.size && a.mtimeNs === b.mtimeNs && (a.ctimeNs !== b.ctimeNs || a.ino !== b.ino)
    );
  }

  /** Old listing entry j has an entry in the old tree. */
  inTree(j: number): boolean {
    return this.rec.spans[2 * j + 1] !== 0;
  }

  /** The old entry for entry i of `now` when its stat is exactly as then and was not racy. */
  unchanged(i: number, name: string): Entry | undefined {
    const j = this.match(i);
    if (j < 0 || !this.inTree(j)) return undefined;
    if (this.sparse) return decodeEntryAt(this.bytes(), this.start(j), this.end(j));
    const tree = this.oldTree();
    while (this.k < tree.length && tree[this.k]!.name < name) this.k++;
    const e = tree[this.k];
    return e?.name === name ? e : undefined;
  }

  /** The old tree's encoding (read and verified once; a copy, not lmdb's lent buffer). */
  bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.store.treeBytes(this.rec.tree.toString('hex'))));
  }
  private encoded: Buffer | undefined;

  /** Where old listing entry j's tree entry lies in the old tree's encoding. */
  start(j: number): number {
    return this.rec.spans[2 * j]!;
  }
  end(j: number): number {
    return this.rec.spans[2 * j + 1]!;
  }

  /** Old listing entry j's tree entry is a file known by its stamp only. */
  stampOnly(j: number): boolean {
    return isStampOnlyFileAt(this.bytes(), this.start(j));
  }

  private oldTree(): Tree {
    if (this.tree === undefined) {
      const id = this.rec.tree.toString('hex');
      this.tree = this.store.has(id) ? this.store.readTree(id) : [];
    }
    return this.tree;
  }

  /**
   * When the parts are entry for entry the old tree (the very same objects as unchanged()
   * gave, or equal directories), their spans in it; else undefined.
   */
  same(parts: readonly Part[]): Uint32Array | undefined {
    const t = this.tree;
    if (t === undefined) return undefined;
    const s = this.rec.spans;
    const spans = new Uint32Array(parts.length * 2);
    let k = 0;
    let j = 0;
    for (let i = 0; i < parts.length; i++) {
      const e = parts[i];
      if (e === undefined) continue;
      const was = t[k];
      if (typeof e === 'number' || was === undefined) return undefined;
      if (was !== e && (e.kind !== 'dir' || !entriesEqual(was, e))) return undefined;
      // Tree entry k is the k-th old listing entry that has one.
      while (j < this.listing.count && s[2 * j + 1] === 0) j++;
      if (j >= this.listing.count) return undefined;
      spans[2 * i] = s[2 * j]!;
      spans[2 * i + 1] = s[2 * j + 1]!;
      j++;
      k++;
    }
    return k === t.length ? spans : undefined;
  }
}

/** A tree's entries, looked up by name in ascending order (a listing is walked in that order). */
export class TreeCursor {
  /** Four offsets per entry: entry start and end, name start and end (skimEntries). */
  private readonly at: Uint32Array;
  private k = 0;
  constructor(private readonly tree: Buffer) {
    this.at = tree.length === 0 ? new Uint32Array(0) : skimEntries(tree);
  }

  /**
   * The index of this tree's entry with the name of the entry at \`other\`[start], or -1.
   * Asked with names in ascending order.
   */
  find(other: Buffer, start: number): number {
    const [ns, ne] = entryNameAt(other, start);
    const n = this.at.length / 4;
    for (; this.k < n; this.k++) {
      const c = this.tree.compare(other, ns, ne, this.at[4 * this.k + 2], this.at[4 * this.k + 3]);
      if (c > 0) return -1;
      if (c === 0) return this.k;
    }
    return -1;
  }

  /** Entry k is byte for byte \`other\`[start, end). */
  equals(k: number, other: Buffer, start: number, end: number): boolean {
    return this.tree.compare(other, start, end, this.at[4 * k], this.at[4 * k + 1]) === 0;
  }

  /** Entry k is byte for byte entry w of \`that\`. */
  sameAs(k: number, that: TreeCursor, w: number): boolean {
    return that.equals(w, this.tree, this.at[4 * k]!, this.at[4 * k + 1]!);
  }
}

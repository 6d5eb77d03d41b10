// A generic n-way walk over sorted trees (isomorphic-git's habit): listings are zipped by
// name bytes, one row per name with each side's entry or undefined. Trees are canonical
// (sorted by name bytes, which is JS string order on byte strings), so one linear pass per
// directory suffices. A directory whose id is equal on every side is one Merkle subtree: the
// walk does not descend into it, so its cost grows with the changes, not with the tree.
// Within a directory the listings are zipped as their encodings: an entry that is the same
// bytes on every side is equal field by field, so only the rows that differ are decoded.
import {
  decodeEntryAt,
  joinPath,
  skimTree,
  type Entry,
  type Hash,
  type Skimmed,
  type Tree,
  type TreeReader,
} from '../tree/index.js';
import type { Path } from './plan.js';

/** One name of a directory, with the entry each side has for it (undefined = absent). */
export interface Row {
  readonly name: string;
  readonly entries: readonly (Entry | undefined)[];
}

/** True when every side has the entry and all their ids are one and the same. */
export function allSameId(entries: readonly (Entry | undefined)[]): boolean {
  const first = entries[0]?.id;
  if (first === undefined) return false;
  for (const e of entries) if (e?.id !== first) return false;
  return true;
}

export type { Skimmed };

/** The encoding of tree `id`, skimmed: kept by the reader's owner where it keeps any (skims.ts). */
export function skimmedTree(reader: TreeReader, id: Hash): Skimmed {
  return reader.skims?.get(reader, id) ?? skimTree(reader, id);
}

/** The skimmed listing of a directory entry, or undefined when absent or not a directory. */
export function skimmedOf(reader: TreeReader, e: Entry | undefined): Skimmed | undefined {
  if (e?.kind !== 'dir' || e.id === undefined) return undefined;
  return skimmedTree(reader, e.id);
}

// Names and entries are short: compared in place, byte by byte, rather than by a call into
// Buffer.compare for each.

/** Name of entry p of \`a\` against name of entry q of \`b\`, by bytes: <0, 0 or >0. */
function compareNames(a: Skimmed, p: number, b: Skimmed, q: number): number {
  const x = a.bytes;
  const y = b.bytes;
  let i = a.at[4 * p + 2]!;
  let j = b.at[4 * q + 2]!;
  const ie = a.at[4 * p + 3]!;
  const je = b.at[4 * q + 3]!;
  for (; i < ie && j < je; i++, j++) {
    if (x[i] !== y[j]) return x[i]! - y[j]!;
  }
  return ie - i - (je - j);
}

/** Entry p of \`a\` and entry q of \`b\` are the same bytes. */
function sameEntry(a: Skimmed, p: number, b: Skimmed, q: number): boolean {
  const x = a.bytes;
  const y = b.bytes;
  let i = a.at[4 * p]!;
  let j = b.at[4 * q]!;
  const ie = a.at[4 * p + 1]!;
  if (ie - i !== b.at[4 * q + 1]! - j) return false;
  for (; i < ie; i++, j++) if (x[i] !== y[j]) return false;
  return true;
}

/**
 * Zip n skimmed listings by name bytes. A name every side has, as the same bytes, is only
 * counted (\`same\`: such a row is equal on every side); the other rows are decoded and
 * returned in name order.
 */
export function differingRows(lists: readonly (Skimmed | undefined)[]): {
  rows: Row[];
  same: number;
} {
  const n = lists.length;
  const pos = new Array<number>(n).fill(0);
  const idx = new Array<number>(n).fill(-1);
  const rows: Row[] = [];
  let same = 0;
  const has = (i: number): boolean => {
    const l = lists[i];
    return l !== undefined && 4 * pos[i]! < l.at.length;
  };
  for (;;) {
    let min = -1;
    for (let i = 0; i < n; i++) {
      if (has(i) && (min < 0 || compareNames(lists[i]!, pos[i]!, lists[min]!, pos[min]!) < 0)) {
        min = i;
      }
    }
    if (min < 0) return { rows, same };
    const m = lists[min]!;
    const mp = pos[min]!;
    let all = true;
    for (let i = 0; i < n; i++) {
      if (has(i) && (i === min || compareNames(lists[i]!, pos[i]!, m, mp) === 0)) {
        idx[i] = pos[i]!++;
        if (all && i > 0) all = sameEntry(lists[i]!, idx[i]!, lists[0]!, idx[0]!);
      } else {
        idx[i] = -1;
        all = false;
      }
    }
    if (all) {
      same++;
      continue;
    }
    const entries = idx.map((p, i) => {
      const l = lists[i];
      return p < 0 || l === undefined
        ? undefined
        : decodeEntryAt(l.bytes, l.at[4 * p]!, l.at[4 * p + 1]!);
    });
    rows.push({ name: m.bytes.toString('latin1', m.at[4 * mp + 2], m.at[4 * mp + 3]), entries });
  }
}

/** The names of a skimmed listing, as byte strings. */
export function skimmedNames(l: Skimmed): string[] {
  const out: string[] = [];
  for (let p = 0; 4 * p < l.at.length; p++) {
    out.push(l.bytes.toString('latin1', l.at[4 * p + 2], l.at[4 * p + 3]));
  }
  return out;
}

/** The listing of a directory entry, or undefined when the entry is absent or not a directory. */
export function listingOf(reader: TreeReader, e: Entry | undefined): Tree | undefined {
  if (e?.kind !== 'dir' || e.id === undefined) return undefined;
  return reader.readTree(e.id);
}

/**
 * Walk n trees together from their roots (undefined = that side has no tree). `visit` is
 * called once per path where the sides differ (rows equal on every side are skipped);
 * returning true descends into the path — unless its ids are equal on every side, when its
 * subtrees are the same and there is nothing below to visit. Sides where the path is not a
 * directory contribute an empty listing.
 */
export function walkTrees(
  reader: TreeReader,
  roots: readonly (Hash | undefined)[],
  visit: (path: Path, entries: readonly (Entry | undefined)[]) => boolean,
): void {
  const listings = roots.map((id) => (id === undefined ? undefined : skimmedTree(reader, id)));
  walkSkimmed(reader, '', listings, visit);
}

function walkSkimmed(
  reader: TreeReader,
  dir: Path,
  listings: readonly (Skimmed | undefined)[],
  visit: (path: Path, entries: readonly (Entry | undefined)[]) => boolean,
): void {
  for (const row of differingRows(listings).rows) {
    const path = joinPath(dir, row.name);
    if (visit(path, row.entries) && !allSameId(row.entries)) {
      walkSkimmed(
        reader,
        path,
        row.entries.map((e) => skimmedOf(reader, e)),
        visit,
      );
    }
  }
}

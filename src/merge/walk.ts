// A generic n-way walk over sorted trees (isomorphic-git's habit): listings are zipped by
// name bytes, one row per name with each side's entry or undefined. Trees are canonical
// (sorted by name bytes, which is JS string order on byte strings), so one linear pass per
// directory suffices. A directory whose id is equal on every side is one Merkle subtree: the
// walk does not descend into it, so its cost grows with the changes, not with the tree.
import {
  entriesEqual,
  joinPath,
  type Entry,
  type Hash,
  type Tree,
  type TreeReader,
} from '../tree/index.js';
import type { Path } from './plan.js';

/** One name of a directory, with the entry each side has for it (undefined = absent). */
export interface Row {
  readonly name: string;
  readonly entries: readonly (Entry | undefined)[];
}

const NO_ENTRIES: Tree = [];

/** Zip n sorted listings into rows, in name-byte order. */
export function zipListings(listings: readonly (Tree | undefined)[]): Row[] {
  const n = listings.length;
  const lists = listings.map((t) => t ?? NO_ENTRIES);
  const pos = new Array<number>(n).fill(0);
  const rows: Row[] = [];
  for (;;) {
    let min: string | undefined;
    for (let i = 0; i < n; i++) {
      const e = lists[i]![pos[i]!];
      if (e !== undefined && (min === undefined || e.name < min)) min = e.name;
    }
    if (min === undefined) return rows;
    const entries = new Array<Entry | undefined>(n);
    for (let i = 0; i < n; i++) {
      const e = lists[i]![pos[i]!];
      if (e !== undefined && e.name === min) {
        entries[i] = e;
        pos[i]!++;
      } else entries[i] = undefined;
    }
    rows.push({ name: min, entries });
  }
}

/** True when every side has the entry and all their ids are one and the same. */
export function allSameId(entries: readonly (Entry | undefined)[]): boolean {
  const first = entries[0]?.id;
  if (first === undefined) return false;
  for (const e of entries) if (e?.id !== first) return false;
  return true;
}

/** True when every side has the entry and all are equal field by field (ids included). */
export function allEqual(entries: readonly (Entry | undefined)[]): boolean {
  const first = entries[0];
  if (first === undefined) return false;
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i];
    if (e === undefined || (e !== first && !entriesEqual(first, e))) return false;
  }
  return true;
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
  const listings = roots.map((id) => (id === undefined ? undefined : reader.readTree(id)));
  walkListings(reader, '', listings, visit);
}

function walkListings(
  reader: TreeReader,
  dir: Path,
  listings: readonly (Tree | undefined)[],
  visit: (path: Path, entries: readonly (Entry | undefined)[]) => boolean,
): void {
  for (const row of zipListings(listings)) {
    if (allEqual(row.entries)) continue;
    const path = joinPath(dir, row.name);
    if (visit(path, row.entries) && !allSameId(row.entries)) {
      walkListings(
        reader,
        path,
        row.entries.map((e) => listingOf(reader, e)),
        visit,
      );
    }
  }
}

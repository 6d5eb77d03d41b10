// Files and bytes under a tree (a snapshot's record holds them), remembered per subtree: an
// unchanged subtree costs nothing, and a tree composed from its entries (local-tree.ts) is
// counted from them as it is stored, so a snapshot of it reads no tree again.
import type { Entry, Hash, TreeReader } from '../tree/index.js';

export interface Totals {
  readonly files: number;
  readonly bytes: number;
}

/** Subtrees remembered before the cache starts again (a long-running daemon composes often). */
const KEPT = 200_000;

export class TotalsCache {
  private readonly byId = new Map<Hash, Totals>();

  of(reader: TreeReader, id: Hash): Totals {
    return this.byId.get(id) ?? this.note(reader, id, reader.readTree(id));
  }

  /** Tree `id`, whose entries are `entries`, counted (its subtrees from the cache or read). */
  note(reader: TreeReader, id: Hash, entries: Iterable<Entry>): Totals {
    let files = 0;
    let bytes = 0;
    for (const e of entries) {
      if (e.kind === 'dir' && e.id !== undefined) {
        const t = this.of(reader, e.id);
        files += t.files;
        bytes += t.bytes;
      } else if (e.kind === 'file') {
        files++;
        bytes += e.size;
      }
    }
    const t = { files, bytes };
    if (this.byId.size >= KEPT) this.byId.clear();
    this.byId.set(id, t);
    return t;
  }
}

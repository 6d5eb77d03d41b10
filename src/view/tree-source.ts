// A view over a tree in the store (a snapshot, base, the last server scan), with some paths
// replaced (a conflicted path showing one side's entry, or hidden: null). File bytes come from
// the store's blobs; where the store has none, `fallback` may name a real file holding the
// same content (the local view's copy of an unchanged file); otherwise the file reads as
// ENODATA and `tether why` says EDISCONDATA.
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { joinPath, type ByteString, type Entry, type Hash } from '../tree/index.js';
import { dirEntry, splitPath, type Content, type ViewNode, type ViewSource } from './node.js';

export interface TreeSourceOptions {
  /** Paths that show another entry than the tree's (null: absent). */
  readonly overrides?: ReadonlyMap<Path, Entry | null>;
  /** A real file with the bytes of `entry` at `path`, when the store has no blob for it. */
  readonly fallback?: (path: Path, entry: Entry) => Content | undefined;
  /** Said by `tether why` of a file whose bytes are nowhere. */
  readonly what: string;
  /** The root directory's time (default: when the view started). */
  readonly rootMtimeNs?: bigint;
}

/** Listings by tree id, as maps from name to entry (a lookup in a big directory is O(1)). */
const MAX_DIRS = 2048;

export class TreeSource implements ViewSource {
  private readonly dirs = new Map<Hash, Map<ByteString, Entry>>();
  private readonly overrides: ReadonlyMap<Path, Entry | null>;
  /** Names each directory gains from overrides (entries the tree does not have). */
  private readonly added = new Map<Path, Set<ByteString>>();
  private links: Map<ByteString, number> | undefined;

  constructor(
    private readonly store: Store,
    readonly rootId: Hash,
    private readonly opts: TreeSourceOptions,
  ) {
    this.overrides = opts.overrides ?? new Map();
    for (const path of this.overrides.keys()) {
      const [parent, name] = splitPath(path);
      let names = this.added.get(parent);
      if (names === undefined) this.added.set(parent, (names = new Set()));
      names.add(name);
    }
  }

  lookup(path: Path): Promise<ViewNode | undefined> {
    const entry = this.entryAt(path);
    if (entry === undefined) return Promise.resolve(undefined);
    if (entry.kind !== 'file') return Promise.resolve({ entry });
    const content = this.contentOf(path, entry);
    if (entry.link === undefined) return Promise.resolve({ entry, content });
    const count = Math.max(1, this.linkCounts().get(entry.link) ?? 0);
    return Promise.resolve({ entry, content, links: { first: entry.link, count } });
  }

  /** Names per hard-link group of the tree: counted once, at the first linked file asked for. */
  private linkCounts(): Map<ByteString, number> {
    if (this.links !== undefined) return this.links;
    const counts = new Map<ByteString, number>();
    const walk = (id: Hash): void => {
      for (const e of this.store.readTree(id)) {
        if (e.kind === 'dir' && e.id !== undefined) walk(e.id);
        else if (e.link !== undefined) counts.set(e.link, (counts.get(e.link) ?? 0) + 1);
      }
    };
    walk(this.rootId);
    return (this.links = counts);
  }

  list(path: Path): Promise<ByteString[] | undefined> {
    const entry = this.entryAt(path);
    if (entry?.kind !== 'dir') return Promise.resolve(undefined);
    const names = new Set(entry.id === undefined ? [] : this.listing(entry.id).keys());
    for (const name of this.added.get(path) ?? []) {
      if (this.overrides.get(joinPath(path, name)) === null) names.delete(name);
      else names.add(name);
    }
    return Promise.resolve([...names]);
  }

  private entryAt(path: Path): Entry | undefined {
    let entry: Entry = dirEntry('', this.opts.rootMtimeNs, this.rootId);
    if (path === '') return entry;
    let at = '';
    for (const name of path.split('/')) {
      at = at === '' ? name : `${at}/${name}`;
      const over = this.overrides.get(at);
      let next: Entry | undefined;
      if (over !== undefined) next = over ?? undefined;
      else if (entry.kind === 'dir' && entry.id !== undefined)
        next = this.listing(entry.id).get(name);
      if (next === undefined) return undefined;
      entry = next;
    }
    return entry;
  }

  private listing(id: Hash): Map<ByteString, Entry> {
    let m = this.dirs.get(id);
    if (m === undefined) {
      m = new Map(this.store.readTree(id).map((e) => [e.name, e]));
      if (this.dirs.size >= MAX_DIRS) this.dirs.clear();
      this.dirs.set(id, m);
    }
    return m;
  }

  private contentOf(path: Path, entry: Entry): Content {
    if (entry.id !== undefined && this.store.blobSize(entry.id) !== undefined) {
      return { from: 'blob', id: entry.id };
    }
    const real = this.opts.fallback?.(path, entry);
    if (real !== undefined) return real;
    return {
      from: 'none',
      why:
        entry.id === undefined
          ? `its content in ${this.opts.what} was never read into the store`
          : `its content in ${this.opts.what} (${entry.id.slice(0, 12)}) is not in the store`,
    };
  }
}

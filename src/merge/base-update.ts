// Building a new tree from an old one plus path updates, in the store: the base advances this
// way after a run (Plan.baseUpdates, MERGE.md invariant 6), and scans are corrected this way
// (ids filled in, mtimes inside the stamp window). Directories are loaded lazily and only the
// ones touched are re-encoded, so the cost grows with the updates, not with the tree.
import type { Path } from './plan.js';
import type { Entry, Hash, Tree } from '../tree/index.js';

/** What editing needs of the store. */
export interface TreeStore {
  readTree(id: Hash): Tree;
  putTree(tree: Tree): Hash;
}

/** One update (see BaseUpdate in src/merge/plan.ts for what each kind of entry means). */
export interface PathUpdate {
  readonly path: Path;
  readonly entry: Entry | null;
}

interface Node {
  entry: Entry;
  /** Children, once loaded (directories only). */
  kids?: Map<string, Node>;
  dirty: boolean;
}

export class TreeEditor {
  private readonly root: Node;

  constructor(
    private readonly store: TreeStore,
    rootId: Hash,
  ) {
    this.root = {
      entry: { name: '', kind: 'dir', mode: 0, uid: 0, gid: 0, size: 0, mtimeNs: 0n, id: rootId },
      dirty: false,
    };
  }

  private kids(n: Node): Map<string, Node> {
    if (n.kids === undefined) {
      n.kids = new Map();
      if (n.entry.id !== undefined) {
        for (const e of this.store.readTree(n.entry.id)) {
          n.kids.set(e.name, { entry: e, dirty: false });
        }
      }
    }
    return n.kids;
  }

  /** The directories from the root to `path`'s parent, or undefined when one is missing. */
  private chain(path: Path): Node[] | undefined {
    const parts = path.split('/');
    parts.pop();
    const out = [this.root];
    let n = this.root;
    for (const part of parts) {
      const next = this.kids(n).get(part);
      if (next?.entry.kind !== 'dir') return undefined;
      out.push(next);
      n = next;
    }
    return out;
  }

  /** The entry at `path` now (with edits applied; a dirty directory's id is stale). */
  get(path: Path): Entry | undefined {
    const chain = this.chain(path);
    return chain === undefined
      ? undefined
      : this.kids(chain[chain.length - 1]!).get(path.slice(path.lastIndexOf('/') + 1))?.entry;
  }

  /** Apply one update; false when its parent directory is missing (the update is skipped). */
  set(u: PathUpdate): boolean {
    if (u.path === '') return false;
    const chain = this.chain(u.path);
    if (chain === undefined) return false;
    const name = u.path.slice(u.path.lastIndexOf('/') + 1);
    const kids = this.kids(chain[chain.length - 1]!);
    const e = u.entry;
    if (e === null) kids.delete(name);
    else if (e.kind !== 'dir' || e.id !== undefined) {
      kids.set(name, { entry: { ...e, name }, dirty: false });
    } else {
      const old = kids.get(name);
      if (old?.entry.kind === 'dir') {
        this.kids(old);
        old.entry = { ...e, name };
        old.dirty = true;
      } else kids.set(name, { entry: { ...e, name }, kids: new Map(), dirty: true });
    }
    for (const n of chain) n.dirty = true;
    return true;
  }

  /** Store every changed directory and return the new root id. */
  finish(): Hash {
    return this.write(this.root).id!;
  }

  private write(n: Node): Entry {
    if (!n.dirty || n.kids === undefined) return n.entry;
    const tree: Entry[] = [];
    for (const k of n.kids.values()) tree.push(this.write(k));
    tree.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    n.entry = { ...n.entry, id: this.store.putTree(tree) };
    n.dirty = false;
    return n.entry;
  }
}

/** `root` with `updates` applied in order (updates whose parent is missing are skipped). */
export function updateTree(store: TreeStore, root: Hash, updates: Iterable<PathUpdate>): Hash {
  const ed = new TreeEditor(store, root);
  for (const u of updates) ed.set(u);
  return ed.finish();
}

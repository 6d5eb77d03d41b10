// Looking up and replacing one path in a Merkle tree, in memory. The merge uses it to build
// "virtual" trees (a rename already applied to one side) without touching any store: new
// listings go into an overlay that a TreeReader serves in front of the real one.
import {
  encodeWithId,
  findName as find,
  lookup,
  treeBytesOf,
  type Entry,
  type Hash,
  type SkimCache,
  type Tree,
  type TreeReader,
} from '../tree/index.js';
import type { Path } from './plan.js';

export { lookup };

/** A reader that serves trees built in memory in front of another reader. */
export class OverlayReader implements TreeReader {
  private readonly trees = new Map<Hash, { tree: Tree; bytes: Buffer }>();
  constructor(private readonly under: TreeReader) {}
  /** The reader's under it: an id names its bytes in the overlay as there. */
  get skims(): SkimCache | undefined {
    return this.under.skims;
  }
  readTree(id: Hash): Tree {
    return this.trees.get(id)?.tree ?? this.under.readTree(id);
  }
  treeBytes(id: Hash): Uint8Array {
    return this.trees.get(id)?.bytes ?? treeBytesOf(this.under, id);
  }
  /** Store a canonical listing; returns its id. */
  put(tree: Tree): Hash {
    const { id, bytes } = encodeWithId(tree);
    this.trees.set(id, { tree, bytes });
    return id;
  }
}

/** True when `path` is the root or a directory under `root`. */
export function isDirAt(reader: TreeReader, root: Hash, path: Path): boolean {
  return path === '' || lookup(reader, root, path)?.kind === 'dir';
}

/**
 * The id of `root` with `path` set to `entry` (renamed to the path's last name) or removed
 * (undefined). Every directory on the way must exist.
 */
export function setAt(
  overlay: OverlayReader,
  root: Hash,
  path: Path,
  entry: Entry | undefined,
): Hash {
  return rewrite(overlay, root, path.split('/'), 0, entry);
}

function rewrite(
  overlay: OverlayReader,
  treeId: Hash,
  parts: readonly string[],
  i: number,
  entry: Entry | undefined,
): Hash {
  const tree = overlay.readTree(treeId);
  const name = parts[i]!;
  const at = find(tree, name);
  const next = [...tree];
  if (i === parts.length - 1) {
    if (at >= 0) next.splice(at, 1);
    if (entry !== undefined) next.splice(at >= 0 ? at : -at - 1, 0, { ...entry, name });
  } else {
    const dir = at >= 0 ? tree[at] : undefined;
    if (dir?.kind !== 'dir' || dir.id === undefined) {
      throw new Error(`tree edit: no directory ${parts.slice(0, i + 1).join('/')}`);
    }
    next[at] = { ...dir, id: rewrite(overlay, dir.id, parts, i + 1, entry) };
  }
  return overlay.put(next);
}

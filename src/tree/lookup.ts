// Finding one path in a Merkle tree: by name in a sorted listing, then directory by directory.
import type { Entry, Tree, TreeReader } from './entry.js';
import type { Hash } from './hash.js';

/** Index of `name` in a sorted listing, or -(insertion point) - 1. */
export function findName(tree: Tree, name: string): number {
  let lo = 0;
  let hi = tree.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const n = tree[mid]!.name;
    if (n === name) return mid;
    if (n < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** The entry at `path` under the root tree `root`, or undefined ('' is no entry: the root has none). */
export function lookup(reader: TreeReader, root: Hash, path: string): Entry | undefined {
  if (path === '') return undefined;
  let tree = reader.readTree(root);
  const parts = path.split('/');
  for (let i = 0; ; i++) {
    const at = findName(tree, parts[i]!);
    if (at < 0) return undefined;
    const e = tree[at]!;
    if (i === parts.length - 1) return e;
    if (e.kind !== 'dir' || e.id === undefined) return undefined;
    tree = reader.readTree(e.id);
  }
}

// Hard-link groups of a snapshot. A tree is a listing per directory, so a file with several
// names is, in it, several files with the same content; the group is recorded in each member's
// entry as a key (entry.ts `link`): the first member's path in byte order. The key is a
// function of the group alone, so the same files linked the same way give the same trees
// (and ids), wherever and whenever they are scanned; a group of one is no group.
//
// Groups are found by inode and device in the listings a scan makes anyway (every directory is
// listed, the unchanged ones too), then written into the scanned tree by rewriting only the
// directories on the way to a member. The scanned tree stays link-free (it is what the scan
// cache remembers); the linked tree is the snapshot's.
import type { Path } from '../merge/plan.js';
import {
  joinPath,
  sortTree,
  type ByteString,
  type Entry,
  type Hash,
  type Tree,
} from '../tree/index.js';
import { fsPath, isMissing } from './fs-entry.js';
import { listDir, type DirListing } from './list-dir.js';
import { TEMP_PREFIX } from './temp-name.js';

/**
 * Collects every regular file's inode from listings; the groups are those seen twice or more.
 * A scan's every listing passes through here, so the common case (no file seen twice) costs
 * one number per file, sorted once: paths are made only for inodes seen twice, in a second
 * pass over the listings kept.
 */
export class LinkFinder {
  private readonly lists: { dir: Path; list: DirListing }[] = [];
  /** Inode numbers of the files seen (where exact: inodeNumber). */
  private readonly numbers: number[] = [];
  /** Files whose inode is no exact number, and files noted by path (add), by inode key. */
  private readonly byKey = new Map<string, Path[]>();
  private dev = -1;

  /** `skip`: paths left out of the tree (a scan's exclusions), never members. */
  constructor(private readonly skip: ReadonlySet<Path> = new Set()) {}

  /** Note the regular files of `dir`'s listing. */
  see(dir: Path, list: DirListing): void {
    let kept = false;
    for (let i = 0; i < list.count; i++) {
      if (list.kind(i) !== 'file') continue;
      if (this.dev < 0) this.dev = list.dev(i);
      const n = list.inodeNumber(i, this.dev);
      if (n >= 0) {
        this.numbers.push(n);
        if (!kept) this.lists.push({ dir, list });
        kept = true;
      } else this.add(list.inodeKey(i), joinPath(dir, list.name(i)));
    }
  }

  /** Note one file by its inode key (any string equal for the names of one file). */
  add(inode: string, path: Path): void {
    const had = this.byKey.get(inode);
    if (had === undefined) this.byKey.set(inode, [path]);
    else had.push(path);
  }

  /** Each member of a group of two or more, and its key: the group's first path. */
  keys(): Map<Path, ByteString> {
    const groups = [...this.byKey.values()].filter((g) => g.length > 1);
    const sorted = Float64Array.from(this.numbers).sort();
    const twice = new Set<number>();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) twice.add(sorted[i]!);
    if (twice.size > 0) {
      const byNumber = new Map<number, Path[]>();
      for (const { dir, list } of this.lists) {
        for (let i = 0; i < list.count; i++) {
          if (list.kind(i) !== 'file') continue;
          const n = list.inodeNumber(i, this.dev);
          if (!twice.has(n)) continue;
          const path = joinPath(dir, list.name(i));
          const had = byNumber.get(n);
          if (had === undefined) byNumber.set(n, [path]);
          else had.push(path);
        }
      }
      groups.push(...byNumber.values());
    }
    const out = new Map<Path, ByteString>();
    for (const all of groups) {
      // Temporary files are never in a tree (scan-replica.ts), nor are skipped paths.
      const paths = all.filter(
        (p) => !this.skip.has(p) && !p.slice(p.lastIndexOf('/') + 1).startsWith(TEMP_PREFIX),
      );
      if (paths.length < 2) continue;
      let first = paths[0]!;
      for (const p of paths) if (p < first) first = p;
      for (const p of paths) out.set(p, first);
    }
    return out;
  }
}

/**
 * The link groups under `root`, found by listing every directory (one call each, no xattrs):
 * for a tree composed without a scan (a volume's local view, local-tree.ts), whose listings
 * were not all made. A directory that vanishes meanwhile is passed over.
 */
export function linkKeysUnder(
  root: string,
  skip: ReadonlySet<Path> = new Set(),
): Map<Path, ByteString> {
  const finder = new LinkFinder(skip);
  const rootBuf = Buffer.from(root);
  const walk = (dir: Path): void => {
    let list: DirListing;
    try {
      list = listDir(fsPath(rootBuf, dir), false);
    } catch (err) {
      if (dir !== '' && isMissing(err)) return;
      throw err;
    }
    finder.see(dir, list);
    for (let i = 0; i < list.count; i++) {
      if (list.kind(i) !== 'dir') continue;
      const p = joinPath(dir, list.name(i));
      if (!skip.has(p)) walk(p);
    }
  };
  walk('');
  return finder.keys();
}

interface Trie {
  key?: ByteString;
  readonly kids: Map<string, Trie>;
}

function trieOf(keys: ReadonlyMap<Path, ByteString>): Trie {
  const root: Trie = { kids: new Map() };
  for (const [path, key] of keys) {
    let n = root;
    for (const name of path.split('/')) {
      let k = n.kids.get(name);
      if (k === undefined) n.kids.set(name, (k = { kids: new Map() }));
      n = k;
    }
    n.key = key;
  }
  return root;
}

/** Where trees are read and stored. */
export interface LinkTreeStore {
  readTree(id: Hash): Tree;
  putTree(tree: Tree): Hash;
}

/**
 * The tree `root` with each member of `keys` carrying its group key. `root` records no links
 * (a scan's tree): entries not in `keys` are left as they are. A member that is not a regular
 * file in the tree (left out by a problem while it was read) is passed over.
 */
export function withLinks(
  store: LinkTreeStore,
  root: Hash,
  keys: ReadonlyMap<Path, ByteString>,
): Hash {
  if (keys.size === 0) return root;
  const rewrite = (id: Hash, node: Trie): Hash => {
    const tree = store.readTree(id);
    const out: Entry[] = [];
    let changed = false;
    for (const e of tree) {
      const kid = node.kids.get(e.name);
      if (kid === undefined) out.push(e);
      else if (e.kind === 'dir' && e.id !== undefined && kid.kids.size > 0) {
        const sub = rewrite(e.id, kid);
        changed ||= sub !== e.id;
        out.push(sub === e.id ? e : { ...e, id: sub });
      } else if (e.kind === 'file' && kid.key !== undefined && e.link !== kid.key) {
        changed = true;
        out.push({ ...e, link: kid.key });
      } else out.push(e);
    }
    return changed ? store.putTree(sortTree(out)) : id;
  };
  return rewrite(root, trieOf(keys));
}

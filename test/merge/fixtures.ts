// Tiny named fixtures for merge tests: trees written as object literals, built bottom-up into
// an in-memory TreeReader (Map<Hash, Tree>, ids from encodeWithId), and flattened back.
//
//   { f: 'a', d: { x: 'b' }, L: link('t'), g: file('c', { mode: 0o755 }), p: fifo() }
//
// A string is a file with that content; a plain object is a directory.
import {
  EMPTY_TREE_ID,
  encodeWithId,
  fromText,
  hashBytes,
  joinPath,
  sortTree,
  type Entry,
  type Hash,
  type Kind,
  type Tree,
  type TreeReader,
  type Xattr,
} from '../../src/tree/index.js';

export const T0 = 1_700_000_000_000_000_000n;

export interface Opts {
  mode?: number;
  mtime?: bigint;
  uid?: number;
  gid?: number;
  xattrs?: Record<string, string>;
  /** Drop the content id: a server file known only by its stamp. */
  stampOnly?: boolean;
  /** The file's hard-link group (entry.ts `link`). */
  linkKey?: string;
}

export interface LeafSpec {
  readonly $: 'leaf';
  readonly kind: Kind;
  readonly content?: string;
  readonly target?: string;
  readonly opts: Opts;
}
export interface DirSpec {
  readonly $: 'dir';
  readonly children: Spec;
  readonly opts: Opts;
}
export type Node = string | LeafSpec | DirSpec | Spec;
export interface Spec {
  readonly [name: string]: Node;
}

export const file = (content: string, opts: Opts = {}): LeafSpec => ({
  $: 'leaf',
  kind: 'file',
  content,
  opts,
});
export const link = (target: string, opts: Opts = {}): LeafSpec => ({
  $: 'leaf',
  kind: 'symlink',
  target,
  opts,
});
export const fifo = (opts: Opts = {}): LeafSpec => ({ $: 'leaf', kind: 'fifo', opts });
export const dir = (children: Spec, opts: Opts = {}): DirSpec => ({ $: 'dir', children, opts });

export const idOf = (content: string): Hash => hashBytes(Buffer.from(content));

function isTagged(n: Node): n is LeafSpec | DirSpec {
  return typeof n === 'object' && '$' in n && (n.$ === 'leaf' || n.$ === 'dir');
}

function xattrsOf(x: Record<string, string> | undefined): { xattrs?: readonly Xattr[] } {
  if (x === undefined) return {};
  const list = Object.entries(x)
    .map(([k, v]) => [fromText(k), Buffer.from(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return list.length === 0 ? {} : { xattrs: list };
}

/** An in-memory tree store: the TreeReader merge reads through. */
export class MemReader implements TreeReader {
  readonly trees = new Map<Hash, Tree>([[EMPTY_TREE_ID, []]]);
  readTree(id: Hash): Tree {
    const t = this.trees.get(id);
    if (t === undefined) throw new Error(`no tree ${id}`);
    return t;
  }
  putTree(tree: Tree): Hash {
    const { id } = encodeWithId(tree);
    this.trees.set(id, tree);
    return id;
  }

  /** Build a spec bottom-up; returns the root id. */
  build(spec: Spec): Hash {
    return this.putTree(this.listing(spec));
  }

  private listing(spec: Spec): Entry[] {
    return sortTree(Object.entries(spec).map(([name, n]) => this.entry(fromText(name), n)));
  }

  entry(name: string, n: Node): Entry {
    if (typeof n === 'string') return this.entry(name, file(n));
    if (!isTagged(n)) return this.entry(name, dir(n));
    const o = n.opts;
    const common = {
      name,
      uid: o.uid ?? 1000,
      gid: o.gid ?? 1000,
      mtimeNs: o.mtime ?? T0,
      ...xattrsOf(o.xattrs),
    };
    if (n.$ === 'dir') {
      const id = this.putTree(this.listing(n.children));
      return { ...common, kind: 'dir', mode: o.mode ?? 0o755, size: 0, id };
    }
    switch (n.kind) {
      case 'file': {
        const content = n.content ?? '';
        return {
          ...common,
          kind: 'file',
          mode: o.mode ?? 0o644,
          size: Buffer.byteLength(content),
          ...(o.stampOnly === true ? {} : { id: idOf(content) }),
          ...(o.linkKey === undefined ? {} : { link: fromText(o.linkKey) }),
        };
      }
      case 'symlink': {
        const target = fromText(n.target ?? '');
        return { ...common, kind: 'symlink', mode: o.mode ?? 0o777, size: target.length, target };
      }
      default:
        return { ...common, kind: n.kind, mode: o.mode ?? 0o644, size: 0 };
    }
  }

  /** Every path under a root, with its entry (directories keep their ids). */
  flatten(root: Hash): Map<string, Entry> {
    const out = new Map<string, Entry>();
    const walk = (dirPath: string, id: Hash): void => {
      for (const e of this.readTree(id)) {
        const p = joinPath(dirPath, e.name);
        out.set(p, e);
        if (e.kind === 'dir' && e.id !== undefined) walk(p, e.id);
      }
    };
    walk('', root);
    return out;
  }

  /** Build a root from a flat path → entry map (directory ids are recomputed). */
  fromFlat(flat: ReadonlyMap<string, Entry>): Hash {
    const kids = new Map<string, Entry[]>();
    for (const [p, e] of flat) {
      const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
      let list = kids.get(parent);
      if (list === undefined) kids.set(parent, (list = []));
      list.push(e);
    }
    const buildDir = (p: string): Hash => {
      const list = (kids.get(p) ?? []).map((e) => {
        if (e.kind !== 'dir') return e;
        return { ...e, id: buildDir(joinPath(p, e.name)) };
      });
      return this.putTree(sortTree(list));
    };
    return buildDir('');
  }
}

// The node table of the low-level binding (DESIGN decision 21): the kernel names files by
// node id; the handler layer by path. A node is one file of the local view (one view inode,
// so hard links are one node); it is known by one or more names (parent node, name bytes),
// and a path is built from a name's chain of parents. A rename moves a name, not a node. The
// kernel counts its references to a node (lookups); at zero (forget) the node is let go.
//
// Paths are the binding's byte strings ('/a/b', one Latin-1 code unit per byte).

export const ROOT = 1;

export interface FsNode {
  readonly id: number;
  /**
   * The view inode this node stands for (a number: inode numbers fit in 2^53, and a BigInt
   * key cost a readdirplus more than the rest of its table work).
   */
  readonly ino: number;
  /** The kernel's references (replies that handed it out, less forgets). */
  lookups: number;
  /** The names it is known by, newest first: keys of `byName`. */
  readonly names: string[];
  /**
   * Descriptors open on it: an unlinked open file is still reached through one. Made with
   * the first (most nodes, those a listing hands out, never have one): see `fdsOf`.
   */
  fds: Set<number> | undefined;
}

/** `node`'s set of open descriptors, made if it has none yet. */
export function fdsOf(node: FsNode): Set<number> {
  return (node.fds ??= new Set());
}

/** A name's key: the parent's id and the name's bytes (or their Latin-1 string). */
const keyOf = (parent: number, name: Buffer | string): string =>
  `${String(parent)}/${typeof name === 'string' ? name : name.toString('latin1')}`;

function split(key: string): { parent: number; name: string } {
  const slash = key.indexOf('/');
  return { parent: Number(key.slice(0, slash)), name: key.slice(slash + 1) };
}

/** A chain of parents longer than this is a cycle (a bug), not a path. */
const MAX_DEPTH = 8192;

export class NodeTable {
  private readonly byId = new Map<number, FsNode>();
  private readonly byIno = new Map<number, FsNode>();
  private readonly byName = new Map<string, FsNode>();
  private nextId = ROOT + 1;

  /** `onDrop` is told of each node that leaves the table. */
  constructor(
    rootIno: number,
    private readonly onDrop: (id: number) => void = () => undefined,
  ) {
    const root: FsNode = { id: ROOT, ino: rootIno, lookups: 1, names: [], fds: undefined };
    this.byId.set(ROOT, root);
    this.byIno.set(rootIno, root);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: number): FsNode | undefined {
    return this.byId.get(id);
  }

  /** The node now known by `name` in `parent`, if the table has it. */
  child(parent: number, name: Buffer): FsNode | undefined {
    return this.byName.get(keyOf(parent, name));
  }

  /** The path of a node ('/' for the root), or undefined once it has no name left. */
  pathOf(id: number): string | undefined {
    const parts: string[] = [];
    let at = this.byId.get(id);
    for (let depth = 0; at !== undefined && at.id !== ROOT; depth++) {
      const first = at.names[0];
      if (first === undefined || depth > MAX_DEPTH) return undefined;
      const { parent, name } = split(first);
      parts.push(name);
      at = this.byId.get(parent);
    }
    if (at === undefined) return undefined;
    return parts.length === 0 ? '/' : `/${parts.reverse().join('/')}`;
  }

  /** The paths of every node the kernel holds ('/' the root): what it may have cached. */
  paths(): string[] {
    const out: string[] = [];
    for (const id of this.byId.keys()) {
      const p = this.pathOf(id);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  /** The path of `name` in `parent`, or undefined when the parent has no path. */
  childPath(parent: number, name: Buffer): string | undefined {
    const p = this.pathOf(parent);
    if (p === undefined) return undefined;
    return p === '/' ? `/${name.toString('latin1')}` : `${p}/${name.toString('latin1')}`;
  }

  /**
   * The node of view inode `ino`, now known by `name` in `parent` (found or made; the name
   * leaves whatever node held it before; a string name is the bytes' Latin-1 string). Counts
   * no lookup: see `ref`.
   */
  learn(parent: number, name: Buffer | string, ino: number): FsNode {
    const key = keyOf(parent, name);
    const held = this.byName.get(key);
    let node = this.byIno.get(ino);
    if (held !== undefined && held !== node) this.dropName(held, key);
    if (node === undefined) {
      node = { id: this.nextId++, ino, lookups: 0, names: [key], fds: undefined };
      this.byId.set(node.id, node);
      this.byIno.set(ino, node);
      this.byName.set(key, node);
    } else if (node.names[0] !== key) {
      const at = node.names.indexOf(key);
      if (at >= 0) node.names.splice(at, 1);
      node.names.unshift(key);
      this.byName.set(key, node);
    }
    return node;
  }

  /** `n` ids no node has yet, for nodes made elsewhere (`adopt`): the first of them. */
  reserve(n: number): number {
    const first = this.nextId;
    this.nextId += n;
    return first;
  }

  /**
   * A node the kernel was handed (once) as id `id`, from `reserve`, for a file just made as
   * `name` in `parent` (view inode `ino`). An older node of the same inode number is of a
   * file gone since (the number was free to reuse): it keeps its id until forgotten.
   */
  adopt(id: number, parent: number, name: Buffer, ino: number): FsNode {
    const key = keyOf(parent, name);
    const held = this.byName.get(key);
    if (held !== undefined) this.dropName(held, key);
    const node: FsNode = { id, ino, lookups: 1, names: [key], fds: undefined };
    this.byId.set(id, node);
    this.byIno.set(ino, node);
    this.byName.set(key, node);
    return node;
  }

  /** The kernel was handed the node `n` more times. */
  ref(node: FsNode, n = 1): void {
    node.lookups += n;
  }

  /** The kernel let go of `n` references; at none, the node leaves the table. */
  forget(id: number, n: number): void {
    const node = this.byId.get(id);
    if (node === undefined || id === ROOT) return;
    node.lookups -= n;
    if (node.lookups <= 0) this.drop(node);
  }

  /** A node made for a reply that did not carry it (readdirplus past the buffer's end). */
  dropIfUnused(node: FsNode): void {
    if (node.lookups <= 0 && node.id !== ROOT && (node.fds?.size ?? 0) === 0) this.drop(node);
  }

  /** `name` in `parent` was removed (unlink, rmdir, or replaced by a rename). */
  unlinked(parent: number, name: Buffer): void {
    const key = keyOf(parent, name);
    const node = this.byName.get(key);
    if (node === undefined) return;
    this.dropName(node, key);
    // A new file may reuse the inode number: it must become a node of its own.
    if (node.names.length === 0 && this.byIno.get(node.ino) === node) this.byIno.delete(node.ino);
  }

  /** `name` in `parent` now is `newName` in `newParent` (what was there is replaced). */
  renamed(parent: number, name: Buffer, newParent: number, newName: Buffer): void {
    const node = this.byName.get(keyOf(parent, name));
    this.unlinked(newParent, newName);
    if (node === undefined) return;
    this.dropName(node, keyOf(parent, name));
    const key = keyOf(newParent, newName);
    node.names.unshift(key);
    this.byName.set(key, node);
    if (!this.byIno.has(node.ino)) this.byIno.set(node.ino, node);
  }

  private dropName(node: FsNode, key: string): void {
    const at = node.names.indexOf(key);
    if (at >= 0) node.names.splice(at, 1);
    if (this.byName.get(key) === node) this.byName.delete(key);
  }

  private drop(node: FsNode): void {
    this.onDrop(node.id);
    this.byId.delete(node.id);
    if (this.byIno.get(node.ino) === node) this.byIno.delete(node.ino);
    for (const key of node.names) if (this.byName.get(key) === node) this.byName.delete(key);
    node.names.length = 0;
  }
}

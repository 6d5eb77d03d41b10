// A replica held in memory: a map from path to entry and bytes, with the same guarded calls as
// a directory (expected state checked first, a per-path problem instead of an overwrite,
// "already" when the result is in place). Unit tests run the executor and the sync engine
// over it without a file system; the replica conformance suite holds it to the directory's
// behaviour.
import {
  display,
  hashBytes,
  sortTree,
  type ByteString,
  type Entry,
  type Field,
  type Hash,
} from '../tree/index.js';
import type { OnPiece } from '../store/stream.js';
import {
  ALREADY,
  DONE,
  lastName,
  parentOf,
  problem,
  type ContentSource,
  type Outcome,
  type Replica,
} from './replica.js';
import {
  appearedSinceScan,
  changedSinceScan,
  neverMade,
  notEmpty,
  notMetadata,
  sourceChanged,
  targetExists,
} from './refusals.js';

interface Node {
  entry: Entry;
  data?: Buffer;
}

/** What a scan of a memory replica needs of the store. */
export interface MemoryScanStore {
  putTree(tree: Entry[]): Hash;
  putBlob(bytes: Uint8Array): Promise<Hash>;
}

/** An error shaped like the system's (code and syscall), as the executor expects of a refusal. */
const errno = (code: string, path: ByteString): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${display(path)}`), { code, syscall: 'memory' });

export class MemoryReplica implements Replica {
  private readonly nodes = new Map<ByteString, Node>();

  constructor(
    readonly label: string,
    readonly mtimeWindowNs = 0n,
  ) {}

  // ——— set-up and inspection (tests) ———

  /** Write a file as a user would (parents made as needed). */
  writeFile(path: ByteString, data: Buffer | string, meta: Partial<Entry> = {}): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.makeParents(path);
    const entry = { ...this.fresh(path, 'file', 0o644), size: bytes.length, ...meta };
    this.nodes.set(path, { entry: { ...entry, size: bytes.length }, data: bytes });
  }

  /** Make a directory and its parents, as a user would. */
  mkdirs(path: ByteString, mode = 0o755): void {
    if (path === '' || this.nodes.get(path)?.entry.kind === 'dir') return;
    this.makeParents(path);
    this.nodes.set(path, { entry: this.fresh(path, 'dir', mode) });
  }

  /** Remove a path and everything below it, as a user would. */
  removeAll(path: ByteString): void {
    for (const p of [...this.nodes.keys()]) {
      if (p === path || p.startsWith(path + '/')) this.nodes.delete(p);
    }
  }

  /** Every path held, sorted. */
  paths(): ByteString[] {
    return [...this.nodes.keys()].sort();
  }

  /** The bytes of the file at `path` (undefined when there is none). */
  content(path: ByteString): Buffer | undefined {
    return this.nodes.get(path)?.data;
  }

  /**
   * The replica as a tree in the store, every file hashed and its bytes kept (a 'hash' scan
   * of the whole replica). Returns the root tree's id.
   */
  async scan(store: MemoryScanStore, exclude: ReadonlySet<ByteString> = new Set()): Promise<Hash> {
    return this.scanDir(store, '', exclude);
  }

  private async scanDir(
    store: MemoryScanStore,
    dir: ByteString,
    exclude: ReadonlySet<ByteString>,
  ): Promise<Hash> {
    const out: Entry[] = [];
    for (const [path, node] of this.nodes) {
      if (parentOf(path) !== dir || exclude.has(path)) continue;
      const e = node.entry;
      if (e.kind === 'dir') out.push({ ...e, id: await this.scanDir(store, path, exclude) });
      else if (e.kind === 'file') out.push({ ...e, id: await store.putBlob(node.data!) });
      else out.push(e);
    }
    return store.putTree(sortTree(out));
  }

  // ——— ContentSource ———

  entry(path: ByteString): Promise<Entry | undefined> {
    return Promise.resolve(this.nodes.get(path)?.entry);
  }

  async matches(path: ByteString, want: Entry | null): Promise<boolean> {
    const have = this.nodes.get(path);
    if (want === null || have === undefined) return want === null && have === undefined;
    const e = have.entry;
    if (e.kind !== want.kind || e.mode !== want.mode) return false;
    if (e.kind === 'symlink') return e.target === want.target;
    if (e.kind === 'chardev' || e.kind === 'blockdev') return e.rdev === want.rdev;
    if (e.kind !== 'file') return true;
    if (e.size !== want.size) return false;
    if (want.id !== undefined) return (await this.hash(path)) === want.id;
    const d = e.mtimeNs - want.mtimeNs;
    return (d < 0n ? -d : d) <= this.mtimeWindowNs;
  }

  async readContent(path: ByteString, onPiece: OnPiece): Promise<number> {
    const data = this.fileAt(path);
    if (data.length > 0) await onPiece(data, 0, false);
    return data.length;
  }

  hash(path: ByteString): Promise<Hash> {
    return Promise.resolve(hashBytes(this.fileAt(path)));
  }

  read(path: ByteString): Promise<Buffer> {
    return Promise.resolve(Buffer.from(this.fileAt(path)));
  }

  // ——— Replica ———

  async put(
    path: ByteString,
    expect: Entry | null,
    entry: Entry,
    source: ContentSource,
    fromPath: ByteString,
  ): Promise<Outcome> {
    if (entry.kind !== 'file' && entry.kind !== 'symlink') {
      return neverMade(this.label, path, entry, 'copied');
    }
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return (await this.matches(path, entry)) ? ALREADY : wrong;
    if (!(await source.matches(fromPath, entry))) return sourceChanged(source.label, fromPath);
    if (entry.kind === 'symlink') return this.install(path, { entry: this.named(path, entry) });
    const pieces: Buffer[] = [];
    const size = await source.readContent(fromPath, (piece) => {
      pieces.push(Buffer.from(piece));
    });
    const data = Buffer.concat(pieces, size);
    const id = hashBytes(data);
    if (size !== entry.size || (entry.id !== undefined && id !== entry.id)) {
      return problem(`${source.label}: ${display(fromPath)} changed while it was copied`);
    }
    const done = this.install(path, { entry: this.named(path, entry), data });
    return done.ok ? { ...done, id } : done;
  }

  async putData(
    path: ByteString,
    expect: Entry | null,
    entry: Entry,
    data: Buffer | null,
  ): Promise<Outcome> {
    if (entry.kind !== 'symlink' && (entry.kind !== 'file' || data === null)) {
      return neverMade(this.label, path, entry, 'written');
    }
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return (await this.matches(path, entry)) ? ALREADY : wrong;
    const e = this.named(path, entry);
    return this.install(path, entry.kind === 'file' ? { entry: e, data: data! } : { entry: e });
  }

  async writeContent(
    path: ByteString,
    expect: Entry,
    data: Buffer,
    mtimeNs: bigint,
  ): Promise<Outcome> {
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return wrong;
    const entry = { ...this.nodes.get(path)!.entry, size: data.length, mtimeNs };
    return this.install(path, { entry, data: Buffer.from(data) });
  }

  mkdir(path: ByteString, entry: Entry): Promise<Outcome> {
    const have = this.nodes.get(path);
    if (have !== undefined && have.entry.kind !== 'dir') {
      return Promise.resolve(appearedSinceScan(this.label, path, have.entry));
    }
    this.needParent(path);
    const made = this.named(path, entry);
    this.nodes.set(path, {
      entry: have === undefined ? made : { ...have.entry, mode: entry.mode },
    });
    return Promise.resolve(have === undefined ? DONE : ALREADY);
  }

  async setmeta(
    path: ByteString,
    expect: Entry,
    entry: Entry,
    fields: readonly Field[],
  ): Promise<Outcome> {
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) {
      return (await this.matches(path, entry)) && !fields.includes('xattrs') ? ALREADY : wrong;
    }
    const node = this.nodes.get(path)!;
    let e = node.entry;
    for (const f of fields) {
      if (f === 'kind' || f === 'content' || f === 'rdev') {
        return notMetadata(this.label, path, f);
      }
      if (f === 'mode' && e.kind !== 'symlink') e = { ...e, mode: entry.mode };
      if (f === 'uid' || f === 'gid') e = { ...e, uid: entry.uid, gid: entry.gid };
      if (f === 'mtime') e = { ...e, mtimeNs: entry.mtimeNs };
      if (f === 'xattrs') e = withXattrs(e, entry);
    }
    node.entry = e;
    return DONE;
  }

  async delete(path: ByteString, expect: Entry): Promise<Outcome> {
    if (!this.nodes.has(path)) return ALREADY;
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return wrong;
    if (expect.kind === 'dir' && this.paths().some((p) => p.startsWith(path + '/'))) {
      return notEmpty(this.label, path);
    }
    this.nodes.delete(path);
    return DONE;
  }

  rename(path: ByteString, to: ByteString, expect: Entry, entry: Entry): Promise<Outcome> {
    return this.move(path, to, expect, entry);
  }

  variant(path: ByteString, variantPath: ByteString, entry: Entry): Promise<Outcome> {
    return this.move(path, variantPath, entry, { ...entry, name: lastName(variantPath) });
  }

  // ——— inside ———

  private async move(
    path: ByteString,
    to: ByteString,
    expect: Entry,
    entry: Entry,
  ): Promise<Outcome> {
    if (this.nodes.has(to)) {
      if (await this.matches(to, entry)) return ALREADY;
      return targetExists(this.label, path, to);
    }
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return wrong;
    this.needParent(to);
    for (const [p, node] of [...this.nodes]) {
      if (p !== path && !p.startsWith(path + '/')) continue;
      this.nodes.delete(p);
      const q = to + p.slice(path.length);
      this.nodes.set(q, { ...node, entry: { ...node.entry, name: lastName(q) } });
    }
    return DONE;
  }

  private async expectAt(path: ByteString, expect: Entry | null): Promise<Outcome | undefined> {
    if (await this.matches(path, expect)) return undefined;
    return changedSinceScan(this.label, path, expect, this.nodes.get(path)?.entry);
  }

  private install(path: ByteString, node: Node): Outcome {
    this.needParent(path);
    this.nodes.set(path, node);
    return DONE;
  }

  private fileAt(path: ByteString): Buffer {
    const node = this.nodes.get(path);
    if (node === undefined) throw errno('ENOENT', path);
    if (node.entry.kind !== 'file') throw errno('EISDIR', path);
    return node.data!;
  }

  private needParent(path: ByteString): void {
    const parent = parentOf(path);
    if (parent === '') return;
    const kind = this.nodes.get(parent)?.entry.kind;
    if (kind === undefined) throw errno('ENOENT', parent);
    if (kind !== 'dir') throw errno('ENOTDIR', parent);
  }

  private makeParents(path: ByteString): void {
    const parent = parentOf(path);
    if (parent !== '') this.mkdirs(parent);
  }

  /** `entry` as held at `path`: its name, no content id (the bytes are the content). */
  private named(path: ByteString, entry: Entry): Entry {
    const { id: _id, ...rest } = entry;
    return { ...rest, name: lastName(path) };
  }

  private fresh(path: ByteString, kind: 'file' | 'dir', mode: number): Entry {
    const mtimeNs = BigInt(Date.now()) * 1_000_000n;
    return { name: lastName(path), kind, mode, uid: 0, gid: 0, size: 0, mtimeNs };
  }
}

function withXattrs(e: Entry, from: Entry): Entry {
  const { xattrs: _drop, ...rest } = e;
  return from.xattrs === undefined ? rest : { ...rest, xattrs: from.xattrs };
}

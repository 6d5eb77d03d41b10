// An in-memory store with the same contract as Store (objects, refs, sub-databases), so that
// the layers above can be unit-tested without a directory or LMDB. It passes the same
// conformance suite as Store (test/store/conformance.ts); reads are verified against ids
// here too, so a test can corrupt an object and see what the callers do with ECORRUPT.
import { open } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import type { KvDb, SyncStore } from './kv.js';
import {
  decodeTree,
  EMPTY_TREE_BYTES,
  EMPTY_TREE_ID,
  encodeWithId,
  hashBytes,
  isHash,
  SkimCache,
  type Hash,
  type Tree,
} from '../tree/index.js';
import type { ObjectStore, RefStore } from './types.js';

function notFound(what: string, id: Hash): TetherError {
  return new TetherError('ENOTFOUND', `${what} ${id} is not in the in-memory store`, { id });
}

function corrupt(id: Hash, where: string): TetherError {
  return new TetherError('ECORRUPT', `object ${id} (${where}) does not match its hash`, {
    id,
    where,
  });
}

/** A sorted Buffer-keyed map with lmdb's range semantics (start inclusive, end exclusive). */
export class MemoryKvDb implements KvDb {
  private readonly map = new Map<string, Buffer>();

  get(key: Buffer): Buffer | undefined {
    const v = this.map.get(key.toString('hex'));
    return v === undefined ? undefined : Buffer.from(v);
  }

  put(key: Buffer, value: Buffer): Promise<boolean> {
    this.putSync(key, value);
    return Promise.resolve(true);
  }

  putSync(key: Buffer, value: Buffer): void {
    this.map.set(key.toString('hex'), Buffer.from(value));
  }

  remove(key: Buffer): Promise<boolean> {
    return Promise.resolve(this.map.delete(key.toString('hex')));
  }

  removeSync(key: Buffer): void {
    this.map.delete(key.toString('hex'));
  }

  *getRange(options: {
    start?: Buffer;
    end?: Buffer;
    reverse?: boolean;
    limit?: number;
  }): Iterable<{ key: Buffer; value: Buffer }> {
    const keys = [...this.map.keys()]
      .map((k) => Buffer.from(k, 'hex'))
      .sort((a, b) => Buffer.compare(a, b));
    if (options.reverse === true) keys.reverse();
    const { start, end, limit } = options;
    let n = 0;
    for (const key of keys) {
      if (limit !== undefined && n >= limit) return;
      const fromStart = start === undefined ? 0 : Buffer.compare(key, start);
      const toEnd = end === undefined ? -1 : Buffer.compare(key, end);
      if (options.reverse === true) {
        // Walking down: start is the upper bound (inclusive), end the lower (exclusive).
        if (fromStart > 0) continue;
        if (end !== undefined && toEnd <= 0) return;
      } else {
        if (fromStart < 0) continue;
        if (toEnd >= 0) return;
      }
      n++;
      yield { key, value: Buffer.from(this.map.get(key.toString('hex'))!) };
    }
  }
}

export class MemoryStore implements ObjectStore, RefStore, SyncStore {
  private readonly trees = new Map<Hash, Buffer>();
  private readonly blobs = new Map<Hash, Buffer>();
  private readonly refs = new Map<string, Hash>();
  private readonly dbs = new Map<string, MemoryKvDb>();
  /** Listings skimmed for walks (tree/skims.ts). */
  readonly skims = new SkimCache();

  has(id: Hash): boolean {
    return id === EMPTY_TREE_ID || this.trees.has(id) || this.blobs.has(id);
  }

  putTree(tree: Tree): Hash {
    const { bytes, id } = encodeWithId(tree);
    return this.putTreeBytes(bytes, id);
  }

  putTreeBytes(bytes: Buffer, id: Hash): Hash {
    if (!this.trees.has(id)) this.trees.set(id, Buffer.from(bytes));
    return id;
  }

  treeBytes(id: Hash): Buffer {
    if (id === EMPTY_TREE_ID) return EMPTY_TREE_BYTES;
    const bytes = this.trees.get(id);
    if (bytes === undefined) throw notFound('tree', id);
    if (hashBytes(bytes) !== id) throw corrupt(id, 'tree');
    return bytes;
  }

  readTree(id: Hash): Tree {
    if (id === EMPTY_TREE_ID) return [];
    return decodeTree(this.treeBytes(id));
  }

  putBlob(bytes: Uint8Array): Promise<Hash> {
    const id = hashBytes(bytes);
    if (!this.blobs.has(id)) this.blobs.set(id, Buffer.from(bytes));
    return Promise.resolve(id);
  }

  readBlob(id: Hash): Promise<Buffer> {
    const bytes = this.blobs.get(id);
    if (bytes === undefined) return Promise.reject(notFound('blob', id));
    if (hashBytes(bytes) !== id) return Promise.reject(corrupt(id, 'blob'));
    return Promise.resolve(Buffer.from(bytes));
  }

  async putBlobFile(path: string | Buffer): Promise<{ id: Hash; size: number }> {
    const fh = await open(path, 'r');
    try {
      const bytes = await fh.readFile();
      return { id: await this.putBlob(bytes), size: bytes.length };
    } finally {
      await fh.close();
    }
  }

  async writeBlobToFile(id: Hash, dest: string | Buffer, mode = 0o600): Promise<void> {
    const bytes = await this.readBlob(id);
    const fh = await open(dest, 'w', mode);
    try {
      await fh.writeFile(bytes);
    } finally {
      await fh.close();
    }
  }

  blobSize(id: Hash): number | undefined {
    return this.blobs.get(id)?.length;
  }

  getRef(name: string): Hash | undefined {
    return this.refs.get(name);
  }

  setRef(name: string, id: Hash, expected?: Hash | null): Promise<void> {
    if (!isHash(id))
      return Promise.reject(new TetherError('EUSAGE', `not an object id: ${String(id)}`));
    if (expected !== undefined && (this.refs.get(name) ?? null) !== expected) {
      return Promise.reject(new TetherError('ECHANGED', `ref ${name} changed meanwhile`, { name }));
    }
    this.refs.set(name, id);
    return Promise.resolve();
  }

  /** Move several refs at once, running `alongside` with them (as Store.setRefs). */
  setRefs(refs: Readonly<Record<string, Hash>>, alongside?: () => void): Promise<void> {
    for (const id of Object.values(refs)) {
      if (!isHash(id)) {
        return Promise.reject(new TetherError('EUSAGE', `not an object id: ${String(id)}`));
      }
    }
    for (const [name, id] of Object.entries(refs)) this.refs.set(name, id);
    alongside?.();
    return Promise.resolve();
  }

  deleteRef(name: string): Promise<void> {
    this.refs.delete(name);
    return Promise.resolve();
  }

  listRefs(prefix: string): { name: string; id: Hash }[] {
    return [...this.refs]
      .filter(([name]) => name.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, id]) => ({ name, id }));
  }

  db(name: string): KvDb {
    let d = this.dbs.get(name);
    if (d === undefined) {
      d = new MemoryKvDb();
      this.dbs.set(name, d);
    }
    return d;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** For tests: replace an object's stored bytes, as a damaged disk would. */
  tamper(id: Hash, bytes: Uint8Array): void {
    if (this.trees.has(id)) this.trees.set(id, Buffer.from(bytes));
    else if (this.blobs.has(id)) this.blobs.set(id, Buffer.from(bytes));
    else throw notFound('object', id);
  }
}

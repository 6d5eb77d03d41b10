// The store's narrow interfaces. `ObjectStore` is what diff, merge, snapshot and sync need;
// every implementation (LMDB-backed, in-memory for unit tests) passes one conformance suite.
import type { Hash, Tree, TreeReader } from '../tree/index.js';

export interface ObjectStore extends TreeReader {
  /** True when an object with this id is stored (tree or blob). */
  has(id: Hash): boolean;
  /** Store a canonical tree (entries sorted, names safe) and return its id. */
  putTree(tree: Tree): Hash;
  /** Store a tree given as its canonical encoding (encodeParts makes one) under its id. */
  putTreeBytes(bytes: Buffer, id: Hash): Hash;
  /**
   * A tree's canonical encoding, verified against its id (throws ENOTFOUND or ECORRUPT). It may
   * be lent: valid until the next call into the store, so copy what must outlive that.
   */
  treeBytes(id: Hash): Buffer;
  /** Store a blob held in memory; returns its id. Idempotent. */
  putBlob(bytes: Uint8Array): Promise<Hash>;
  /** Read a whole blob, verified against its id (throws ECORRUPT if it is not). */
  readBlob(id: Hash): Promise<Buffer>;
}

/** Named pointers to trees (snapshots, the sync base, …), updated atomically. */
export interface RefStore {
  getRef(name: string): Hash | undefined;
  setRef(name: string, id: Hash, expected?: Hash | null): Promise<void>;
  deleteRef(name: string): Promise<void>;
  listRefs(prefix: string): { name: string; id: Hash }[];
}

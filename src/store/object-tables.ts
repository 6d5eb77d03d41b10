// The store's LMDB tables of objects: trees and small blobs, keyed by their ids' bytes. Puts
// are batched (lmdb commits them on its write thread): an object put is found here at once,
// from the pending maps, and is durable once `committed` resolves (Store.flush waits for it).
// The first failed write is kept, for every later flush to report.
import type { Database, RootDatabase } from 'lmdb';
import { isHash, type Hash } from '../tree/index.js';

function idKey(id: Hash): Buffer {
  return Buffer.from(id, 'hex');
}

export class ObjectTables {
  private readonly trees: Database<Buffer, Buffer>;
  private readonly blobs: Database<Buffer, Buffer>;
  /** Trees put in this tick whose batched LMDB write has not committed yet. */
  private readonly pending = new Map<Hash, Buffer>();
  /** Small blobs put whose batched write has not committed yet. */
  private readonly pendingBlobs = new Map<Hash, Buffer>();
  /** The first failed batched write: every later flush (and so every ref move) reports it. */
  writeError: unknown = undefined;

  constructor(private readonly env: RootDatabase) {
    const bin = { keyEncoding: 'binary', encoding: 'binary' } as const;
    this.trees = env.openDB<Buffer, Buffer>('o:trees', bin);
    this.blobs = env.openDB<Buffer, Buffer>('o:blobs', bin);
  }

  /** Whether a tree or a small blob with this id (a hash) is here, committed or not. */
  has(id: Hash): boolean {
    if (this.pending.has(id) || this.pendingBlobs.has(id)) return true;
    const k = idKey(id);
    if (this.trees.doesExist(k)) return true;
    return this.blobs.doesExist(k);
  }

  hasSmallBlob(id: Hash): boolean {
    if (this.pendingBlobs.has(id)) return true;
    return isHash(id) && this.blobs.doesExist(idKey(id));
  }

  treePending(id: Hash): boolean {
    return this.pending.has(id);
  }

  putTree(bytes: Buffer, id: Hash): void {
    if (this.pending.has(id)) return;
    const k = idKey(id);
    if (this.trees.doesExist(k)) return;
    this.pending.set(id, bytes);
    void this.trees.put(k, bytes).then(
      () => this.pending.delete(id),
      (err: unknown) => (this.writeError ??= err),
    );
  }

  /** A tree's stored bytes, unverified (lent by lmdb when committed: see lentTree). */
  tree(id: Hash): Buffer | undefined {
    return this.pending.get(id) ?? (isHash(id) ? this.lentTree(id) : undefined);
  }

  /**
   * A tree's stored bytes without a copy: lmdb lends its read buffer (its \`length\` set to the
   * value's) until the next read, so the caller hashes and decodes them at once (decoding
   * copies what it keeps). A view of exactly the value's bytes is returned.
   */
  private lentTree(id: Hash): Buffer | undefined {
    const lent = this.trees.getBinaryFast(idKey(id));
    return lent === undefined ? undefined : lent.subarray(0, lent.length);
  }

  /**
   * Batched like trees: durable by the next flush (which every ref move waits for). `owned`:
   * nothing else writes `bytes` (a buffer read for this alone), so they are kept as they are
   * until written, not copied.
   */
  putSmallBlob(bytes: Uint8Array, id: Hash, owned = false): void {
    if (this.pendingBlobs.has(id)) return;
    // Not looked up here: a lookup in a big blob database costs the main thread page faults;
    // the write, made only if the blob is not there, is decided on lmdb's write thread.
    const copy = owned
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : Buffer.from(bytes);
    const k = idKey(id);
    this.pendingBlobs.set(id, copy);
    void this.blobs
      .ifNoExists(k, () => void this.blobs.put(k, copy))
      .then(
        () => this.pendingBlobs.delete(id),
        (err: unknown) => (this.writeError ??= err),
      );
  }

  /** A small blob's stored bytes, unverified. */
  smallBlob(id: Hash): Buffer | undefined {
    if (!isHash(id)) return undefined;
    return this.pendingBlobs.get(id) ?? this.blobs.getBinary(idKey(id));
  }

  /** A small blob's stored bytes, unverified and lent as lentTree's (copy them at once). */
  lentSmallBlob(id: Hash): Buffer | undefined {
    if (!isHash(id)) return undefined;
    const pending = this.pendingBlobs.get(id);
    if (pending !== undefined) return pending;
    const lent = this.blobs.getBinaryFast(idKey(id));
    return lent === undefined ? undefined : lent.subarray(0, lent.length);
  }

  /** Every tree or small blob (id, stored bytes), for fsck. */
  *records(kind: 'tree' | 'blob'): Iterable<{ id: Hash; bytes: Buffer }> {
    for (const { key, value } of (kind === 'tree' ? this.trees : this.blobs).getRange({})) {
      yield { id: key.toString('hex'), bytes: value };
    }
  }

  remove(kind: 'tree' | 'blob', id: Hash): Promise<boolean> {
    return (kind === 'tree' ? this.trees : this.blobs).remove(idKey(id));
  }

  /** Remove trees and small blobs in one transaction. */
  removeAll(trees: readonly Hash[], blobs: readonly Hash[]): void {
    this.env.transactionSync(() => {
      for (const id of trees) this.trees.removeSync(idKey(id));
      for (const id of blobs) this.blobs.removeSync(idKey(id));
    });
  }

  /** Resolves once every put made so far is committed (or has failed: see writeError). */
  async committed(): Promise<void> {
    await this.trees.committed;
    await this.blobs.committed;
  }
}

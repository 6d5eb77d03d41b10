// The content-addressed store: one LMDB environment per store directory for trees, small
// blobs, refs and the other layers' records, and read-only files under blobs/ for large
// contents. Everything read is verified against its id, so a flipped bit is reported
// (ECORRUPT), never returned.
//
// Crash safety rests on two orders: an object is durable before anything names it (a ref is
// moved only after the object writes are flushed), and a blob file appears under its final
// name only after its bytes are fsynced (temp → fsync → rename → fsync of the directory).
// LMDB's own commits are atomic, so after kill -9 the environment opens at its last commit.
import { closeSync, fstatSync, readFileSync, type BigIntStats } from 'node:fs';
import { open, readdir, unlink } from 'node:fs/promises';
import type { Database, RootDatabase } from 'lmdb';
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
import { BlobFiles, corrupt } from './blob-files.js';
import { LruCache } from './lru.js';
import { FIRST, giveFirst, openToRead, openToReadSync, takeFirst } from './stream.js';
import type { ObjectStore, RefStore } from './types.js';
import { isNoEntry } from './store-files.js';
import { createStoreDir, openStoreEnv } from './store-open.js';
import { ObjectTables } from './object-tables.js';
import { Refs } from './refs.js';
import { UserRecords } from './user-records.js';

export { FORMAT, FORMAT_VERSION, MARKER, processAlive } from './store-files.js';

/** Blobs of at least this many bytes live as files under blobs/; smaller ones in LMDB. */
export const BLOB_FILE_THRESHOLD = FIRST;

export class Store implements ObjectStore, RefStore, SyncStore {
  /** Trees and small blobs (object-tables.ts). */
  private readonly objects: ObjectTables;
  private readonly refTable: Refs;
  private readonly records: UserRecords;
  private readonly files: BlobFiles;
  private readonly cache = new LruCache<Hash, Tree>(4096);
  /** Listings skimmed for walks (tree/skims.ts): this store's, dropped when it closes. */
  readonly skims = new SkimCache();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly env: RootDatabase,
    readonly readOnly: boolean,
  ) {
    this.objects = new ObjectTables(env);
    this.refTable = new Refs(
      dir,
      env,
      env.openDB<string, string>('o:refs', { encoding: 'string' }),
      () => {
        this.writable();
      },
      () => this.flush(),
    );
    // lmdb's types say a database always opens; read-only, one that does not exist does not.
    const meta: Database<string, string> | undefined = env.openDB<string, string>('o:meta', {
      encoding: 'string',
    });
    this.files = new BlobFiles(dir);
    this.records = new UserRecords(dir, env, meta);
  }

  /** Make a new store in `dir` (made mode 0700 whoever created it; it must be empty). */
  static async create(dir: string): Promise<Store> {
    await createStoreDir(dir);
    return Store.open(dir);
  }

  /** Open an existing store; a directory that is not one is refused with ENOTSTORE. */
  static async open(dir: string, opts: { readOnly?: boolean } = {}): Promise<Store> {
    const readOnly = opts.readOnly ?? false;
    const store = new Store(dir, await openStoreEnv(dir, readOnly), readOnly);
    store.records.seal(readOnly);
    return store;
  }

  static async openOrCreate(dir: string): Promise<Store> {
    try {
      return await Store.open(dir);
    } catch (err) {
      if (err instanceof TetherError && err.code === 'ENOTSTORE') {
        let empty = true;
        try {
          empty = (await readdir(dir)).length === 0;
        } catch (e) {
          if (!isNoEntry(e)) throw err;
        }
        if (empty) return Store.create(dir);
      }
      throw err;
    }
  }

  // ---- objects ---------------------------------------------------------------------------

  has(id: Hash): boolean {
    if (!isHash(id)) return false;
    if (id === EMPTY_TREE_ID || this.objects.has(id)) return true;
    return this.files.size(id) !== undefined;
  }

  /** has() for a blob id: skips the tree lookup (a scan asks this once per unchanged file). */
  hasBlob(id: Hash): boolean {
    if (this.objects.hasSmallBlob(id)) return true;
    return this.files.size(id) !== undefined;
  }

  putTree(tree: Tree): Hash {
    const { bytes, id } = encodeWithId(tree);
    return this.putTreeBytes(bytes, id);
  }

  putTreeBytes(bytes: Buffer, id: Hash): Hash {
    if (this.objects.treePending(id) || this.cache.get(id) !== undefined) return id;
    this.objects.putTree(bytes, id);
    return id;
  }

  treeBytes(id: Hash): Buffer {
    if (id === EMPTY_TREE_ID) return EMPTY_TREE_BYTES;
    const bytes = this.objects.tree(id);
    if (bytes === undefined) {
      throw new TetherError(
        'ENOTFOUND',
        `tree ${id} is not in the store at ${this.dir}; run "tether fsck" to check the store`,
        { id },
      );
    }
    if (hashBytes(bytes) !== id) throw corrupt(id, 'tree');
    return bytes;
  }

  readTree(id: Hash): Tree {
    if (id === EMPTY_TREE_ID) return [];
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    const bytes = this.treeBytes(id);
    let tree: Tree;
    try {
      tree = decodeTree(bytes);
    } catch (err) {
      throw new TetherError(
        'ECORRUPT',
        `tree ${id} cannot be decoded: ${(err as Error).message}; run "tether fsck --repair"`,
        { id },
        { cause: err },
      );
    }
    this.cache.set(id, tree);
    return tree;
  }

  putBlob(bytes: Uint8Array): Promise<Hash> {
    return this.putBlobBytes(bytes, false);
  }

  /** putBlob; `owned`: nothing else writes `bytes`, so a small blob's are kept, not copied. */
  private async putBlobBytes(bytes: Uint8Array, owned: boolean): Promise<Hash> {
    const id = hashBytes(bytes);
    if (bytes.byteLength < BLOB_FILE_THRESHOLD) {
      this.objects.putSmallBlob(bytes, id, owned);
      return id;
    }
    await this.files.write(bytes, id);
    return id;
  }

  /** Store a file's content, streaming it; the returned id is of the bytes actually stored. */
  async putBlobFile(
    path: string | Buffer,
    sizeHint?: number,
  ): Promise<{ id: Hash; size: number; stat: BigIntStats }> {
    if (sizeHint !== undefined && sizeHint < BLOB_FILE_THRESHOLD) {
      // A small file (most of them): read whole without a round trip through the I/O threads
      // (a few microseconds from the page cache), stored in LMDB.
      const fd = openToReadSync(path);
      let bytes: Buffer;
      let stat: BigIntStats;
      try {
        bytes = readFileSync(fd);
        stat = fstatSync(fd, { bigint: true });
      } finally {
        closeSync(fd);
      }
      // Read for this alone: stored without a copy.
      return { id: await this.putBlobBytes(bytes, true), size: bytes.length, stat };
    }
    const src = await openToRead(path);
    const first = takeFirst();
    try {
      const { bytesRead } = await src.read(first, 0, BLOB_FILE_THRESHOLD, 0);
      const bytes = first.subarray(0, bytesRead);
      if (bytesRead < BLOB_FILE_THRESHOLD) {
        const stat = await src.stat({ bigint: true });
        return { id: await this.putBlob(bytes), size: bytesRead, stat };
      }
      const { id, size } = await this.files.streamIn(src, bytes);
      return { id, size, stat: await src.stat({ bigint: true }) };
    } finally {
      giveFirst(first);
      await src.close();
    }
  }

  async readBlob(id: Hash): Promise<Buffer> {
    const small = this.objects.smallBlob(id);
    if (small !== undefined) {
      if (hashBytes(small) !== id) throw corrupt(id, 'blob');
      return Buffer.from(small);
    }
    return this.files.read(id);
  }

  /**
   * Where blob `id`'s bytes are, unverified, for a caller that verifies them itself against
   * `id` before using them (restore's writer threads hash what they write): a small blob's
   * stored bytes, lent (lmdb's read buffer, valid until the next read: copy them at once), or
   * else the path of its blob file; undefined if the store has neither.
   */
  blobForCopy(id: Hash): { readonly lent: Buffer } | { readonly file: string } | undefined {
    const lent = this.objects.lentSmallBlob(id);
    if (lent !== undefined) return { lent };
    return this.files.size(id) !== undefined ? { file: this.files.path(id) } : undefined;
  }

  /** Write blob `id` to exactly `dest` (created or truncated), verified; the caller renames. */
  async writeBlobToFile(id: Hash, dest: string | Buffer, mode = 0o600): Promise<void> {
    const small = this.objects.smallBlob(id);
    const out = await open(dest, 'w', mode);
    try {
      if (small !== undefined) {
        if (hashBytes(small) !== id) throw corrupt(id, 'blob');
        await out.writeFile(small);
      } else {
        await this.files.copyTo(id, out);
      }
      await out.sync();
    } catch (err) {
      await out.close();
      await unlink(dest).catch(() => undefined);
      throw err;
    }
    await out.close();
  }

  blobSize(id: Hash): number | undefined {
    if (!isHash(id)) return undefined;
    const small = this.objects.smallBlob(id);
    if (small !== undefined) return small.length;
    return this.files.size(id);
  }

  // ---- refs ------------------------------------------------------------------------------

  getRef(name: string): Hash | undefined {
    return this.refTable.get(name);
  }

  /**
   * Move a ref (compare-and-set when `expected` is given: null for "no such ref"). `alongside`
   * runs inside the same transaction, for records that go with the ref (putSync).
   */
  setRef(name: string, id: Hash, expected?: Hash | null, alongside?: () => void): Promise<void> {
    return this.refTable.set(name, id, expected, alongside);
  }

  /** Move several refs at once, atomically (no compare-and-set). */
  setRefs(refs: Readonly<Record<string, Hash>>, alongside?: () => void): Promise<void> {
    return this.refTable.setAll(refs, alongside);
  }

  deleteRef(name: string): Promise<void> {
    return this.refTable.delete(name);
  }

  listRefs(prefix: string): { name: string; id: Hash }[] {
    return this.refTable.list(prefix);
  }

  // ---- records of other layers -------------------------------------------------------------

  db(name: string): KvDb {
    return this.records.db(name);
  }

  /** Every record of a user database as stored (key, value with its checksum), for fsck. */
  rawRecords(name: string): Iterable<{ key: Buffer; stored: Buffer }> {
    return this.records.raw(name);
  }

  get recordsSealed(): boolean {
    return this.records.sealed;
  }

  /** Remove one record of a user database (fsck --repair, after it was quarantined). */
  async dropUserRecord(name: string, key: Buffer): Promise<void> {
    this.writable();
    await this.records.drop(name, key);
    await this.env.flushed;
  }

  /** Names of the user databases there are (without their 'u:' prefix). */
  userDbNames(): string[] {
    return this.records.names();
  }

  /**
   * A cache inside the store (scan caches): kept across runs to skip work, never the only
   * record of anything, and dropped whole by dropCaches (fsck --repair, after objects went).
   */
  cacheDb(name: string): KvDb {
    return this.records.cacheDb(name);
  }

  /** Forget every cache (they may name objects that are gone). */
  async dropCaches(): Promise<void> {
    this.writable();
    await this.records.dropCaches();
  }

  // ---- for fsck ----------------------------------------------------------------------------

  /** Every tree (id, stored bytes). */
  treeRecords(): Iterable<{ id: Hash; bytes: Buffer }> {
    return this.objects.records('tree');
  }

  /** Every small blob (id, stored bytes). */
  blobRecords(): Iterable<{ id: Hash; bytes: Buffer }> {
    return this.objects.records('blob');
  }

  /**
   * Remove an object record from LMDB (fsck --repair, after it was copied to quarantine). The
   * caches go too: a scan cache takes the objects it names to be there without looking.
   */
  async dropRecord(kind: 'tree' | 'blob', id: Hash): Promise<void> {
    this.writable();
    this.cache.delete(id);
    await this.objects.remove(kind, id);
    await this.dropCaches();
    await this.env.flushed;
  }

  /**
   * Drop unreachable objects (gc's sweep). The scan caches go first, in their own commit: a
   * cache vouches for objects without looking, so it must never outlive one. Then the LMDB
   * records in one transaction, then the blob files, each unlinked only after that commit
   * (a kill between the steps leaves unreferenced objects behind, never a missing one).
   */
  async dropObjects(trees: readonly Hash[], blobs: readonly Hash[], files: readonly Hash[]) {
    this.writable();
    await this.dropCaches();
    await this.env.flushed;
    if (trees.length > 0 || blobs.length > 0) {
      this.objects.removeAll(trees, blobs);
      await this.env.flushed;
    }
    for (const id of trees) this.cache.delete(id);
    await this.files.drop(files);
  }

  /** Every blob file's id (names that are not ids are left to fsck). */
  blobFileIds(): Promise<Hash[]> {
    return this.files.ids();
  }

  blobPath(id: Hash): string {
    return this.files.path(id);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** The flush in progress: flushes run one after another, so each waits for all before it. */
  private flushing: Promise<void> = Promise.resolve();

  /**
   * Make everything written so far durable: blob directories fsynced, lmdb committed. Calls
   * made at once (two scans ending together) run in turn, so none returns before what an
   * earlier one was making durable is.
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushNow());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async flushNow(): Promise<void> {
    if (this.readOnly) return;
    await this.files.syncDirty();
    await this.env.flushed;
    // Pending entries leave their maps as their own puts resolve.
    await this.objects.committed();
    const writeError = this.objects.writeError;
    if (writeError !== undefined) {
      throw new TetherError(
        'EIO',
        `writing to the store at ${this.dir} failed: ${writeError instanceof Error ? writeError.message : 'unknown error'}; ` +
          'nothing was made to name the unwritten objects; check the disk and run "tether fsck"',
        { dir: this.dir },
        { cause: writeError },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.skims.clear();
    try {
      await this.flush();
    } finally {
      await this.env.close();
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private writable(): void {
    if (this.readOnly) {
      throw new TetherError('EUSAGE', `the store at ${this.dir} was opened read-only`);
    }
  }
}

// Large blobs as read-only files under S/blobs/<2 hex>/<rest>, each named by its id. A file
// appears under its name only after its bytes are fsynced (temp → fsync → rename), and its
// directory entry is made durable by the store's next flush, before any ref can name it.
// Runs of zeros stay holes, in the store and in copies out of it.
import { statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../errors.js';
import { hashBytes, isHash, newHasher, type Hash } from '../tree/index.js';
import { PIECE, pump } from './stream.js';
import { isNoEntry, syncDir } from './store-files.js';

const ZEROS = Buffer.alloc(PIECE);

function isZero(piece: Buffer): boolean {
  return piece.length === PIECE
    ? piece.equals(ZEROS)
    : piece.equals(ZEROS.subarray(0, piece.length));
}

export function corrupt(id: Hash, where: string): TetherError {
  return new TetherError(
    'ECORRUPT',
    `object ${id} (${where}) does not match its hash: the store is damaged; ` +
      `run "tether fsck --repair" to quarantine it`,
    { id, where },
  );
}

export function missingBlob(id: Hash, storeDir: string): TetherError {
  return new TetherError(
    'ENOTFOUND',
    `blob ${id} is not in the store at ${storeDir}; run "tether fsck" to check the store`,
    { id },
  );
}

export class BlobFiles {
  /** Blob directories known to exist, and those with renames not yet made durable. */
  private readonly known = new Set<string>();
  private readonly dirty = new Set<string>();

  constructor(private readonly storeDir: string) {}

  path(id: Hash): string {
    return join(this.storeDir, 'blobs', id.slice(0, 2), id.slice(2));
  }

  size(id: Hash): number | undefined {
    try {
      return statSync(this.path(id)).size;
    } catch {
      return undefined;
    }
  }

  /** A new temp file's name, in S/tmp (named `<pid>-<random>`: a killed writer's is litter). */
  tempPath(): string {
    return join(this.storeDir, 'tmp', `${process.pid}-${Math.random().toString(36).slice(2)}`);
  }

  /** Store `bytes` (of id `id`) as a file. */
  async write(bytes: Uint8Array, id: Hash): Promise<void> {
    if (this.size(id) !== undefined) return;
    const tmp = this.tempPath();
    let installed = false;
    try {
      const fh = await open(tmp, 'wx', 0o400);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.install(tmp, id);
      installed = true;
    } finally {
      if (!installed) await rm(tmp, { force: true });
    }
  }

  /**
   * Store what `src` holds, whose first `first.length` bytes were read already; the id is of
   * the bytes actually stored.
   */
  async streamIn(src: FileHandle, first: Buffer): Promise<{ id: Hash; size: number }> {
    const hasher = newHasher();
    hasher.update(first);
    let tmp: string | undefined = this.tempPath();
    try {
      const out = await open(tmp, 'wx', 0o400);
      let size = first.length;
      try {
        await out.write(first, 0, first.length, 0);
        size += await pump(src, size, async (piece, pos, hole) => {
          hasher.update(piece);
          if (!hole && !isZero(piece)) await out.write(piece, 0, piece.length, pos);
        });
        await out.truncate(size);
        await out.sync();
      } finally {
        await out.close();
      }
      const id = hasher.digest();
      await this.install(tmp, id);
      tmp = undefined;
      return { id, size };
    } finally {
      if (tmp !== undefined) await rm(tmp, { force: true });
    }
  }

  /** The blob's bytes, verified. */
  async read(id: Hash): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(id));
    } catch (err) {
      if (isNoEntry(err)) throw missingBlob(id, this.storeDir);
      throw err;
    }
    if (hashBytes(bytes) !== id) throw corrupt(id, 'blob file ' + this.path(id));
    return bytes;
  }

  /** Copy the blob into `out` from offset 0, holes kept, verified (ECORRUPT after the copy). */
  async copyTo(id: Hash, out: FileHandle): Promise<void> {
    let src;
    try {
      src = await open(this.path(id), 'r');
    } catch (err) {
      if (isNoEntry(err)) throw missingBlob(id, this.storeDir);
      throw err;
    }
    try {
      const hasher = newHasher();
      const size = await pump(src, 0, async (piece, pos, hole) => {
        hasher.update(piece);
        if (!hole) await out.write(piece, 0, piece.length, pos);
      });
      await out.truncate(size);
      if (hasher.digest() !== id) throw corrupt(id, 'blob file ' + this.path(id));
    } finally {
      await src.close();
    }
  }

  /** Every blob file's id (names that are not ids are left to fsck). */
  async ids(): Promise<Hash[]> {
    const out: Hash[] = [];
    const root = join(this.storeDir, 'blobs');
    for (const sub of await readdir(root, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      for (const name of await readdir(join(root, sub.name))) {
        if (isHash(sub.name + name)) out.push(sub.name + name);
      }
    }
    return out;
  }

  /** Remove blob files, their directories fsynced after. */
  async drop(ids: readonly Hash[]): Promise<void> {
    const dirs = new Set<string>();
    for (const id of ids) {
      await rm(this.path(id), { force: true });
      dirs.add(join(this.storeDir, 'blobs', id.slice(0, 2)));
    }
    await Promise.all([...dirs].map(syncDir));
  }

  /** Make the renames made so far durable. */
  async syncDirty(): Promise<void> {
    const dirs = [...this.dirty];
    this.dirty.clear();
    await Promise.all(dirs.map(syncDir));
  }

  /**
   * Move a blob file (its bytes already fsynced) to its name. Renaming over an existing copy
   * is harmless: same id, same bytes.
   */
  private async install(tmp: string, id: Hash): Promise<void> {
    const dir = join(this.storeDir, 'blobs', id.slice(0, 2));
    if (!this.known.has(dir)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.known.add(dir);
    }
    await rename(tmp, this.path(id));
    this.dirty.add(dir);
  }
}

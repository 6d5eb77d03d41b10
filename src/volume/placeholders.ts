// Files of the local view whose content was never fetched: sparse files of base's size and
// mtime, each recorded in the store by its path with its inode number. A record counts only
// while the file at that path is still that inode: a file the engine replaced (temp → rename)
// or that was unlinked and its name reused is a real file again, whatever a stale record says.
import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { joinPath } from '../tree/index.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { fsPath } from '../scan/fs-entry.js';

const PREFIX = Buffer.from('p:');
/**
 * A record's key: PREFIX and the path, or, past RAW_KEY bytes (LMDB's keys are at most 1978),
 * the first RAW_KEY bytes of that, a NUL (no path has one) and a hash of the whole; such a
 * record's value carries its path after the inode number.
 */
const RAW_KEY = 1024;
const keyOf = (path: Path): Buffer => {
  const raw = Buffer.concat([PREFIX, Buffer.from(path, 'latin1')]);
  if (raw.length <= RAW_KEY) return raw;
  return Buffer.concat([raw.subarray(0, RAW_KEY), NUL, createHash('sha256').update(raw).digest()]);
};
const NUL = Buffer.alloc(1);
const valueOf = (path: Path, ino: bigint): Buffer => {
  const v = Buffer.alloc(8);
  v.writeBigUInt64LE(ino, 0);
  return PREFIX.length + path.length <= RAW_KEY
    ? v
    : Buffer.concat([v, Buffer.from(path, 'latin1')]);
};

export class Placeholders {
  constructor(
    private readonly db: KvDb,
    private readonly root: Buffer,
  ) {}

  /** Recorded as a placeholder with this inode (the scanner's hook: no file system call). */
  is(path: Path, ino: bigint): boolean {
    const v = asBytes(this.db.get(keyOf(path)));
    return v !== undefined && v.length >= 8 && v.readBigUInt64LE(0) === ino;
  }

  /** Whether the file at `path` is a placeholder now (one lstat). */
  isNow(path: Path): boolean {
    if (asBytes(this.db.get(keyOf(path))) === undefined) return false;
    try {
      return this.is(path, lstatSync(fsPath(this.root, path), { bigint: true }).ino);
    } catch {
      return false;
    }
  }

  /** Record inside a transaction (materialising a tree writes many at once). */
  addSync(path: Path, ino: bigint): void {
    this.db.putSync(keyOf(path), valueOf(path, ino));
  }

  async add(path: Path, ino: bigint): Promise<void> {
    await this.db.put(keyOf(path), valueOf(path, ino));
  }

  async remove(path: Path): Promise<void> {
    // Most paths are none (every create asks): a read, not a write transaction.
    if (this.db.get(keyOf(path)) === undefined) return;
    await this.db.remove(keyOf(path));
  }

  /** Every recorded path at or under `dir` ('' for all). */
  *under(dir: Path): Generator<Path> {
    // Every key at or under dir starts with dir's key cut to RAW_KEY bytes.
    const start = dir === '' ? PREFIX : keyOf(dir).subarray(0, RAW_KEY);
    for (const { key, value } of this.db.getRange({ start })) {
      const k = asBytes(key);
      if (k === undefined || !k.subarray(0, start.length).equals(start)) return;
      const hashed = k.length > RAW_KEY;
      const path = hashed
        ? (asBytes(value)?.subarray(8).toString('latin1') ?? '')
        : k.subarray(PREFIX.length).toString('latin1');
      if (dir === '' || path === dir || path.startsWith(joinPath(dir, ''))) yield path;
    }
  }

  /** Drop the records at or under `paths` that no longer name their file. */
  async pruneAt(paths: readonly Path[]): Promise<void> {
    for (const dir of paths) {
      for (const path of [...this.under(dir)]) if (!this.isNow(path)) await this.remove(path);
    }
  }
}

// Files of the local view whose content was never fetched: sparse files of base's size and
// mtime, each recorded in the store by its path with its inode number. A record counts only
// while the file at that path is still that inode: a file the engine replaced (temp → rename)
// or that was unlinked and its name reused is a real file again, whatever a stale record says.
import { lstatSync } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { joinPath } from '../tree/index.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { fsPath } from '../scan/fs-entry.js';
import { PathKeys } from './path-key.js';

const KEYS = new PathKeys(Buffer.from('p:'));
const keyOf = (path: Path): Buffer => KEYS.key(path);
const valueOf = (path: Path, ino: bigint): Buffer => {
  const v = Buffer.alloc(8);
  v.writeBigUInt64LE(ino, 0);
  return KEYS.value(path, v);
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
    const start = KEYS.start(dir);
    for (const { key, value } of this.db.getRange({ start })) {
      const k = asBytes(key);
      if (k === undefined || !k.subarray(0, start.length).equals(start)) return;
      const path = KEYS.pathOf(k, asBytes(value), 8);
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

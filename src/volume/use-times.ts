// When each cached file was last used (opened, truncated, linked through the mount), so that
// culling takes the least recently used first. Not the local view's atime: the file system
// under the store is usually mounted relatime (an atime moves at most once a day once it is
// newer than the mtime), noatime is common, and the low-level binding's reads never reach
// this process at all; the open always does. Uses are kept in memory and written to the store
// in batches (each cull tick), so a later mount keeps the order at the cost of one put per
// file used since the last batch, not one per open.
import type { Path } from '../merge/plan.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { PathKeys } from './path-key.js';

const KEYS = new PathKeys(Buffer.from('u:'));

export class UseTimes {
  private readonly recent = new Map<Path, number>();
  private readonly unwritten = new Set<Path>();

  constructor(
    private readonly db: KvDb,
    private readonly clock: () => number = Date.now,
  ) {}

  touch(path: Path): void {
    this.recent.set(path, this.clock());
    this.unwritten.add(path);
  }

  /** When `path` was last used (0: never recorded). */
  lastUse(path: Path): number {
    const m = this.recent.get(path);
    if (m !== undefined) return m;
    const v = asBytes(this.db.get(KEYS.key(path)));
    return v !== undefined && v.length >= 8 ? Number(v.readBigUInt64LE(0)) : 0;
  }

  /** Write the uses recorded since the last batch (LMDB commits them together). */
  async flush(): Promise<void> {
    const batch = [...this.unwritten];
    this.unwritten.clear();
    await Promise.all(
      batch.map((path) => {
        const head = Buffer.alloc(8);
        head.writeBigUInt64LE(BigInt(this.recent.get(path) ?? 0));
        return this.db.put(KEYS.key(path), KEYS.value(path, head));
      }),
    );
    // What is written is read back from the store: memory need not keep it all.
    if (this.recent.size > 50_000) {
      for (const p of batch) if (!this.unwritten.has(p)) this.recent.delete(p);
    }
  }
}

// The range maps of partially fetched files (ranges.ts), kept in the store by path beside the
// placeholder records (same database, keys through path-key.ts). A range is recorded only once
// its bytes are durably in the placeholder (the copy fsyncs before it answers), so after a
// crash a map never claims bytes the file does not hold; bytes written but not yet recorded
// are simply fetched again.
import type { Path } from '../merge/plan.js';
import { joinPath } from '../tree/index.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { PathKeys } from './path-key.js';
import { decodeMap, encodeMap, type RangeMap } from './ranges.js';

const KEYS = new PathKeys(Buffer.from('r:'));

export class RangeStore {
  constructor(private readonly db: KvDb) {}

  get(path: Path): RangeMap | undefined {
    const v = asBytes(this.db.get(KEYS.key(path)));
    return v === undefined ? undefined : decodeMap(v)?.map;
  }

  /** The map recorded for `path` if it belongs to the local file `ino`. */
  of(path: Path, ino: bigint): RangeMap | undefined {
    const m = this.get(path);
    return m?.ino === ino ? m : undefined;
  }

  async put(path: Path, map: RangeMap): Promise<void> {
    await this.db.put(KEYS.key(path), KEYS.value(path, encodeMap(map)));
  }

  async remove(path: Path): Promise<void> {
    // Most paths have none: a read, not a write transaction.
    if (this.db.get(KEYS.key(path)) === undefined) return;
    await this.db.remove(KEYS.key(path));
  }

  /** Every path with a map at or under `dir` ('' for all). */
  *under(dir: Path): Generator<Path> {
    const start = KEYS.start(dir);
    for (const { key, value } of this.db.getRange({ start })) {
      const k = asBytes(key);
      if (k === undefined || !k.subarray(0, start.length).equals(start)) return;
      const v = asBytes(value);
      const path = KEYS.pathOf(k, v, v === undefined ? 0 : (decodeMap(v)?.length ?? 0));
      if (dir === '' || path === dir || path.startsWith(joinPath(dir, ''))) yield path;
    }
  }

  /** Drop the maps at or under `paths` whose file is no longer a placeholder (`isPlaceholder`). */
  async pruneAt(paths: readonly Path[], isPlaceholder: (path: Path) => boolean): Promise<void> {
    // All at once, in one lmdb transaction (as Placeholders.pruneAt).
    const removing: Promise<void>[] = [];
    for (const dir of paths) {
      for (const path of [...this.under(dir)])
        if (!isPlaceholder(path)) removing.push(this.remove(path));
    }
    await Promise.all(removing);
  }
}

// The working set (DESIGN decision 11): paths the user pinned, kept in the store. A pinned
// file is fetched by `tether hoard` and by the daemon's periodic re-walk; a pinned directory
// brings its files, and with `recursive` everything below it, files created later included
// (the walk looks again each time).
import type { Path } from '../merge/plan.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { joinPath } from '../tree/index.js';

export interface Pin {
  readonly path: Path;
  readonly recursive: boolean;
  readonly priority: number;
}

const PREFIX = 'pin:';
const keyOf = (path: Path): Buffer => Buffer.from(PREFIX + path, 'latin1');

export class Pins {
  /**
   * The list as last read: a process has one Pins (services.ts) and every change goes through
   * it, so the list is read again only after one (it is asked for every fetched file).
   */
  private cached: Pin[] | undefined;

  constructor(private readonly db: KvDb) {}

  async add(path: Path, recursive: boolean, priority = 0): Promise<void> {
    this.cached = undefined;
    try {
      await this.db.put(keyOf(path), Buffer.from(JSON.stringify({ recursive, priority })));
    } finally {
      this.cached = undefined;
    }
  }

  /** Whether `path` was pinned (and so is unpinned now). */
  async remove(path: Path): Promise<boolean> {
    this.cached = undefined;
    try {
      return await this.db.remove(keyOf(path));
    } finally {
      this.cached = undefined;
    }
  }

  /** Every pin, highest priority first, then by path. */
  list(): Pin[] {
    this.cached ??= this.read();
    return [...this.cached];
  }

  private read(): Pin[] {
    const out: Pin[] = [];
    for (const { key, value } of this.db.getRange({ start: keyOf('') })) {
      const k = asBytes(key)?.toString('latin1');
      const v = asBytes(value);
      if (k === undefined || !k.startsWith(PREFIX) || v === undefined) break;
      const o = JSON.parse(v.toString()) as { recursive?: boolean; priority?: number };
      out.push({
        path: k.slice(PREFIX.length),
        recursive: o.recursive === true,
        priority: o.priority ?? 0,
      });
    }
    return out.sort((a, b) => b.priority - a.priority);
  }
}

/** Whether the file at `path` is in the set a pin covers. */
export function covers(pin: Pin, path: Path): boolean {
  if (pin.path === '') return pin.recursive || !path.includes('/');
  if (path === pin.path) return true;
  const dir = joinPath(pin.path, '');
  if (!path.startsWith(dir)) return false;
  return pin.recursive || !path.slice(dir.length).includes('/');
}

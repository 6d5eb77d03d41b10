// Reading a partially fetched file (DESIGN decision 5): a read-only open of a placeholder some
// of whose ranges are present succeeds, and each read is checked against the range map. A read
// of present bytes is served; one touching a missing range fetches the file first while online,
// and fails offline with ENODATA, `tether why` then naming EDISCONDATA and the range.
//
// The check follows the store, not a copy taken at open: ranges fetched later serve at once,
// and a file completed since (no longer a placeholder, same inode) reads whole. A map gone
// while the file at the path is another one (replaced, removed) leaves the open file's holes
// unreadable for good: they are zeros, not content.
import { lstatSync } from 'node:fs';
import type { ReadCheck } from '../fuse/checked-reads.js';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import type { Placeholders } from './placeholders.js';
import type { RangeStore } from './range-store.js';
import { firstGap, presentBytes } from './ranges.js';
import type { WhyLog, WhyRecord } from './why.js';

/** What the checks need of the volume. */
export interface PartialSide {
  readonly placeholders: Placeholders;
  readonly ranges: RangeStore;
  readonly why: WhyLog;
  /** Now (a check made later sees the mode then). */
  readonly mode: string;
  /** Fetch the rest of `path` (online); fails as a fetch does. */
  fetch(path: Path, op: string): Promise<void>;
  describe(path: Path): string;
  onEvent(type: string, data: Record<string, unknown>): void;
}

/** A fetch refused because the cache has no room (culler.ts), not because of the remote. */
function refusedForRoom(err: unknown): boolean {
  return (err as { record?: { name?: unknown } }).record?.name === 'EDISCONFULL';
}

function inoAt(local: Buffer, path: Path): bigint | undefined {
  try {
    return lstatSync(fsPath(local, path), { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** How reads of the partial file at `path` (inode `ino`, `size` bytes here) are checked. */
function partialRead(
  v: PartialSide,
  local: Buffer,
  error: (record: WhyRecord) => Error,
  at: { path: Path; ino: bigint; size: number },
): ReadCheck {
  const { path, ino, size } = at;
  /** The first missing range the read meets, or undefined when it may be served. */
  const gap = (pos: number, len: number): [number, number] | undefined => {
    const map = v.ranges.of(path, ino);
    if (map !== undefined) return firstGap(map, pos, len, size);
    if (!v.placeholders.isNow(path) && inoAt(local, path) === ino) return undefined;
    return [pos, pos + len];
  };
  return {
    check: async (pos, len) => {
      let missing = gap(pos, len);
      if (missing === undefined) return;
      if (v.mode === 'online') {
        // The rest of the file is fetched (only what is missing); its failure is the read's.
        // A fetch refused for want of room is answered as such (ENOSPC, EDISCONFULL).
        await v.fetch(path, 'read').catch((err: unknown) => {
          if (refusedForRoom(err)) throw err;
        });
        missing = gap(pos, len);
        if (missing === undefined) return;
      }
      const [a, b] = missing;
      const why = v.mode === 'online' ? 'could not be fetched' : 'the volume is offline';
      const reason = `bytes ${String(a)}–${String(b - 1)} of ${v.describe(path)} were never fetched and ${why}`;
      v.onEvent('data-unavailable', { path, reason, range: [a, b] });
      throw error(v.why.note(path, 'EDISCONDATA', 'read', reason));
    },
  };
}

/** The partial files of a volume, for its read-only opens and its `user.tether.state`. */
export class PartialReads {
  constructor(
    private readonly v: PartialSide,
    /** The local view. */
    private readonly local: Buffer,
    /** The error a failure record is answered with. */
    private readonly error: (record: WhyRecord) => Error,
  ) {}

  /** The placeholder at `path`, if it is one with some bytes present. */
  private now(path: Path): { path: Path; ino: bigint; size: number } | undefined {
    let st;
    try {
      st = lstatSync(fsPath(this.local, path), { bigint: true });
    } catch {
      return undefined;
    }
    if (!this.v.placeholders.is(path, st.ino)) return undefined;
    const map = this.v.ranges.of(path, st.ino);
    if (map === undefined || presentBytes(map) === 0) return undefined;
    return { path, ino: st.ino, size: Number(st.size) };
  }

  /** How reads of `path` are checked, if it is a partial file now. */
  open(path: Path): ReadCheck | undefined {
    const p = this.now(path);
    return p === undefined ? undefined : partialRead(this.v, this.local, this.error, p);
  }

  has(path: Path): boolean {
    return this.now(path) !== undefined;
  }

  /**
   * For a read-only open: the content made present (fetched), or, where some of it is here and
   * the rest cannot come (offline, or the fetch failed), how each read is checked.
   */
  async presentToRead(path: Path, op: string): Promise<ReadCheck | undefined> {
    if (this.v.mode !== 'online') {
      const p = this.open(path);
      if (p !== undefined) return p;
    }
    try {
      await this.v.fetch(path, op);
      return undefined;
    } catch (err) {
      const p = this.open(path);
      if (p === undefined) throw err;
      return p;
    }
  }
}

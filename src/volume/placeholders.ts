// Files of the local view whose content was never fetched: sparse files of base's size and
// mtime, each recorded in the store by its path with its inode number. A record counts only
// while the file at that path is still that inode: a file the engine replaced (temp → rename)
// or that was unlinked and its name reused is a real file again, whatever a stale record says.
//
// Two kinds of record:
//   p:PATH   ino                   the placeholder of base's file at PATH, where it was made
//   m:PATH   ino, origin           one renamed or hard-linked since (offline, or before the next
//                                  flush): it holds base's content at `origin`, not at PATH
// A rename or a link writes the new records first, then moves the file, then drops the old
// records (placeholder-moves.ts): killed at any step, every placeholder still has a record that
// names its inode, so its zeros are never taken for content. Every record of one inode has
// the same origin (a placeholder only ever comes from one materialised file), which is how
// the records of all its names are found again when its content arrives.
import { lstatSync } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { joinPath } from '../tree/index.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { fsPath } from '../scan/fs-entry.js';
import { PathKeys } from './path-key.js';

const KEYS = new PathKeys(Buffer.from('p:'));
const MOVED = new PathKeys(Buffer.from('m:'));
const keyOf = (path: Path): Buffer => KEYS.key(path);
const valueOf = (path: Path, ino: bigint): Buffer => {
  const v = Buffer.alloc(8);
  v.writeBigUInt64LE(ino, 0);
  return KEYS.value(path, v);
};

/** A moved record's value: ino, the origin's length, the origin, then (long keys) the path. */
function movedValue(path: Path, ino: bigint, origin: Path): Buffer {
  const o = Buffer.from(origin, 'latin1');
  const head = Buffer.alloc(12 + o.length);
  head.writeBigUInt64LE(ino, 0);
  head.writeUInt32LE(o.length, 8);
  o.copy(head, 12);
  return MOVED.value(path, head);
}

interface MovedRecord {
  readonly ino: bigint;
  readonly origin: Path;
  readonly headLength: number;
}

function readMoved(v: Buffer | undefined): MovedRecord | undefined {
  if (v === undefined || v.length < 12) return undefined;
  const n = v.readUInt32LE(8);
  return {
    ino: v.readBigUInt64LE(0),
    origin: v.subarray(12, 12 + n).toString('latin1'),
    headLength: 12 + n,
  };
}

/** A placeholder found by path: its inode and the base path whose content it stands for. */
export interface PlaceholderRecord {
  readonly path: Path;
  readonly ino: bigint;
  readonly origin: Path;
}

export class Placeholders {
  constructor(
    private readonly db: KvDb,
    private readonly root: Buffer,
  ) {}

  /**
   * Recorded as base's placeholder at this very path with this inode (the scanner's hook: no
   * file system call). A moved one is not: it stands for another path's content (movedFrom).
   */
  is(path: Path, ino: bigint): boolean {
    const v = asBytes(this.db.get(keyOf(path)));
    return v !== undefined && v.length >= 8 && v.readBigUInt64LE(0) === ino;
  }

  /** The base path whose content the moved placeholder at `path` (this inode) stands for. */
  movedFrom(path: Path, ino: bigint): Path | undefined {
    const r = readMoved(asBytes(this.db.get(MOVED.key(path))));
    return r !== undefined && r.ino === ino ? r.origin : undefined;
  }

  /** The placeholder at `path` now (one lstat), where it came from, or undefined. */
  recordNow(path: Path): PlaceholderRecord | undefined {
    return this.recordWithLinks(path)?.record;
  }

  /** recordNow, with the number of names the file has (its link count). */
  private recordWithLinks(path: Path): { record: PlaceholderRecord; links: bigint } | undefined {
    const p = asBytes(this.db.get(keyOf(path)));
    const m = readMoved(asBytes(this.db.get(MOVED.key(path))));
    if (p === undefined && m === undefined) return undefined;
    let ino: bigint;
    let links: bigint;
    try {
      ({ ino, nlink: links } = lstatSync(fsPath(this.root, path), { bigint: true }));
    } catch {
      return undefined;
    }
    if (m !== undefined && m.ino === ino) return { record: { path, ino, origin: m.origin }, links };
    if (p !== undefined && p.length >= 8 && p.readBigUInt64LE(0) === ino)
      return { record: { path, ino, origin: path }, links };
    return undefined;
  }

  /** Whether the file at `path` is a placeholder now (one lstat). */
  isNow(path: Path): boolean {
    return this.recordNow(path) !== undefined;
  }

  /** Record inside a transaction (materialising a tree writes many at once). */
  addSync(path: Path, ino: bigint): void {
    this.db.putSync(keyOf(path), valueOf(path, ino));
  }

  async add(path: Path, ino: bigint): Promise<void> {
    await this.db.put(keyOf(path), valueOf(path, ino));
  }

  /** Record `path` as the placeholder `ino`, standing for base's content at `origin`. */
  async addMoved(path: Path, ino: bigint, origin: Path): Promise<void> {
    await this.db.put(MOVED.key(path), movedValue(path, ino, origin));
  }

  /** Forget the record(s) of this one name (unlinked, or replaced by another file). */
  async remove(path: Path): Promise<void> {
    // Most paths are none (every create asks): a read, not a write transaction.
    if (this.db.get(keyOf(path)) !== undefined) await this.db.remove(keyOf(path));
    if (this.db.get(MOVED.key(path)) !== undefined) await this.db.remove(MOVED.key(path));
  }

  /** Forget only the record made where base's file was (its name now holds another file). */
  async removeOrigin(path: Path): Promise<void> {
    if (this.db.get(keyOf(path)) !== undefined) await this.db.remove(keyOf(path));
  }

  /** Forget the moved record at `path`. */
  async removeMoved(path: Path): Promise<void> {
    if (this.db.get(MOVED.key(path)) !== undefined) await this.db.remove(MOVED.key(path));
  }

  /** The moved record at `path` as written (not checked), to put back after a failed move. */
  movedAt(path: Path): PlaceholderRecord | undefined {
    const r = readMoved(asBytes(this.db.get(MOVED.key(path))));
    return r === undefined ? undefined : { path, ino: r.ino, origin: r.origin };
  }

  /**
   * The file at `path` holds real content now (fetched, truncated, overwritten): so do all its
   * other names (hard links share the inode). Their records all go.
   */
  async removeInode(path: Path): Promise<void> {
    const found = this.recordWithLinks(path);
    await this.remove(path);
    if (found === undefined) return;
    const r = found.record;
    if (this.is(r.origin, r.ino)) await this.db.remove(keyOf(r.origin));
    // A file with one name has no other name to hold a moved record of it (a rename writes
    // the new name's record and drops the old one's): nothing to look for. This is nearly
    // every fetched file, and scanning the moved records for each one was a hoard's cost. A
    // record left by a rename killed midway names a path that is not this inode: it counts
    // for nothing (recordNow checks the inode), and the next sync's settling drops it.
    if (found.links <= 1n) return;
    for (const m of [...this.moved('')]) {
      if (m.ino === r.ino && m.origin === r.origin) await this.db.remove(MOVED.key(m.path));
    }
  }

  /** Every moved record at or under `dir` ('' for all), as recorded (not checked). */
  *moved(dir: Path): Generator<PlaceholderRecord> {
    const start = MOVED.start(dir);
    for (const { key, value } of this.db.getRange({ start })) {
      const k = asBytes(key);
      if (k === undefined || !k.subarray(0, start.length).equals(start)) return;
      const v = asBytes(value);
      const r = readMoved(v);
      if (r === undefined) continue;
      const path = MOVED.pathOf(k, v, r.headLength);
      if (within(path, dir)) yield { path, ino: r.ino, origin: r.origin };
    }
  }

  /** Every recorded path at or under `dir` ('' for all). */
  *under(dir: Path): Generator<Path> {
    const start = KEYS.start(dir);
    for (const { key, value } of this.db.getRange({ start })) {
      const k = asBytes(key);
      if (k === undefined || !k.subarray(0, start.length).equals(start)) break;
      const path = KEYS.pathOf(k, asBytes(value), 8);
      if (within(path, dir)) yield path;
    }
    for (const m of this.moved(dir)) yield m.path;
  }

  /** Every record at or under `dir`, as recorded (inode and origin; not checked). */
  *recordsUnder(dir: Path): Generator<PlaceholderRecord> {
    const start = KEYS.start(dir);
    for (const { key, value } of this.db.getRange({ start })) {
      const k = asBytes(key);
      if (k === undefined || !k.subarray(0, start.length).equals(start)) break;
      const v = asBytes(value);
      if (v === undefined || v.length < 8) continue;
      const path = KEYS.pathOf(k, v, 8);
      if (within(path, dir)) yield { path, ino: v.readBigUInt64LE(0), origin: path };
    }
    yield* this.moved(dir);
  }

  /** Drop the records at or under `paths` that no longer name their file. */
  async pruneAt(paths: readonly Path[]): Promise<void> {
    // All at once: lmdb writes the removals of one turn in one transaction (a sync that
    // replaced a hundred placeholders waited for a hundred commits, one after another).
    const removing: Promise<void>[] = [];
    for (const dir of paths) {
      for (const path of [...this.under(dir)])
        if (!this.isNow(path)) removing.push(this.remove(path));
    }
    await Promise.all(removing);
  }
}

function within(path: Path, dir: Path): boolean {
  return dir === '' || path === dir || path.startsWith(joinPath(dir, ''));
}

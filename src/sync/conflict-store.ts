// Conflict records in the store: the truth about every conflicted path (a variant's file name
// is only a hint), and the history of conflicts that were resolved, by hand or automatically.
//
// One key space in the store's `conflicts` database, split by a one-byte prefix:
//   0x00 <path bytes> 0x00 <u32 big-endian n>   an open conflict, the n-th at that path (a
//                               range read lists them sorted by path, then in the order they
//                               happened; a key without the suffix is one an older version
//                               wrote, read the same way)
//   0x01 <u64 big-endian seq>   a history record, in the order they were written
// A path may have several open conflicts (MERGE.md invariant 1: a new conflict on a path whose
// earlier one is still open is a record of its own, with a variant of its own). A record is
// named by its variant's path, or by its canonical path where that is not ambiguous.
// Values are plain msgpack arrays (no records: the bytes do not depend on object key order);
// entries inside use the canonical tree-entry encoding, so they round-trip exactly (names as
// bytes, mtimes in nanoseconds, xattr values as bytes).
import { Packr } from 'msgpackr';
import { TetherError } from '../errors.js';
import type { Conflict, ConflictKind, Path } from '../merge/plan.js';
import { bytesOf, display, type Entry } from '../tree/index.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { entryBytesOrNull, RecordFields } from './record-fields.js';

/** What ConflictStore needs of a database: a store's named database (Buffer keys). */
export type ConflictDb = KvDb;

/** How a conflict ended. `auto-merge`: a three-way text merge resolved it during sync. */
export type Resolution = 'local' | 'server' | 'base' | 'both' | 'auto-merge';
export const RESOLUTIONS: readonly Resolution[] = ['local', 'server', 'base', 'both', 'auto-merge'];

/** A conflict that was resolved, with how and when. */
export interface ResolvedConflict {
  readonly conflict: Conflict;
  readonly resolution: Resolution;
  /** Milliseconds since the epoch (the injected clock's reading). */
  readonly at: number;
  /** What the path holds afterwards on both sides (null: absent). */
  readonly result: Entry | null;
  /** For `both`: the name the variant was kept under, now a real file on both sides. */
  readonly keptPath?: Path;
}

const OPEN = 0x00;
const HISTORY = 0x01;
const FORMAT = 1;
const KINDS: readonly ConflictKind[] = [
  'edit/edit',
  'add/add',
  'modify/delete',
  'delete/modify',
  'type',
  'metadata',
  'rename/rename',
  'directory-delete',
];
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });

export class ConflictStore {
  private nextSeq: bigint | undefined;

  constructor(private readonly db: ConflictDb) {}

  /** Every open conflict, sorted by path bytes, then oldest first. */
  list(): Conflict[] {
    return this.records(Buffer.from([OPEN]), Buffer.from([HISTORY])).map((r) => r.conflict);
  }

  /** The open conflicts at canonical path `path`, oldest first. */
  at(path: Path): Conflict[] {
    return this.recordsAt(path).map((r) => r.conflict);
  }

  /**
   * The open conflict `name` names: the one whose variant is at `name`, or the one at the
   * canonical path `name` (of several there, the one without a variant; several of those, the
   * oldest). Several with variants at that path: a usage error that lists their variants,
   * since taking one of them by guess could undo a newer decision.
   */
  get(name: Path): Conflict | undefined {
    return this.find(name)?.conflict;
  }

  /** True when `name` is a conflicted path or a recorded variant's path. */
  has(name: Path): boolean {
    return this.recordsAt(name).length > 0 || this.byVariant(name) !== undefined;
  }

  /**
   * Record an open conflict. The same conflict again (same path and variant, or for one
   * without a variant the same three entries) replaces its record, so a run finished after
   * a kill records nothing twice; any other conflict at the path is a record of its own.
   */
  async put(conflict: Conflict): Promise<void> {
    await this.putAll([conflict]);
  }

  /**
   * put() of several conflicts, their writes issued at once (one commit, with whatever the
   * caller issues in the same turn); several at one path each get a record of their own.
   */
  putAll(conflicts: readonly Conflict[]): Promise<void> {
    const writes: Promise<boolean>[] = [];
    const made = new Map<Path, OpenRecord[]>();
    for (const conflict of conflicts) {
      let here = made.get(conflict.path);
      if (here === undefined) made.set(conflict.path, (here = this.recordsAt(conflict.path)));
      const same = here.find((r) => sameConflict(r.conflict, conflict));
      let key = same?.key;
      if (key === undefined) {
        let n = 0;
        for (const r of here) n = Math.max(n, suffixOf(r.key, conflict.path));
        key = openKey(conflict.path, n + 1);
      }
      here.push({ key, conflict });
      writes.push(this.db.put(key, encodeConflict(conflict)));
    }
    return Promise.all(writes).then(() => undefined);
  }

  /** Forget the open conflict `name` names (no history); true when there was one. */
  async delete(name: Path | Conflict): Promise<boolean> {
    const r = typeof name === 'string' ? this.find(name) : this.recordOf(name);
    if (r === undefined) return false;
    await this.db.remove(r.key);
    return true;
  }

  /** Append a resolved (or auto-merged) conflict to the history. */
  async record(resolved: ResolvedConflict): Promise<void> {
    const seq = this.takeSeq();
    await this.db.put(historyKey(seq), encodeResolved(resolved));
  }

  /**
   * Close the open conflict at `path`: append it to the history with its resolution and
   * remove the open record. Throws ENOTFOUND when `path` has no open conflict.
   */
  async resolve(
    name: Path | Conflict,
    how: Omit<ResolvedConflict, 'conflict'>,
  ): Promise<ResolvedConflict> {
    const r = typeof name === 'string' ? this.find(name) : this.recordOf(name);
    if (r === undefined) {
      const path = typeof name === 'string' ? name : name.path;
      throw new TetherError('ENOTFOUND', `no conflict is recorded at ${display(path)}`, {
        path: display(path),
      });
    }
    const resolved: ResolvedConflict = { conflict: r.conflict, ...how };
    await this.record(resolved);
    await this.db.remove(r.key);
    return resolved;
  }

  /** Resolved and auto-merged conflicts, oldest first (`limit`: the newest `limit` of them). */
  history(limit?: number): ResolvedConflict[] {
    const range = this.db.getRange({
      start: Buffer.from([HISTORY + 1]),
      end: Buffer.from([HISTORY]),
      reverse: true,
      ...(limit === undefined ? {} : { limit }),
    });
    const out: ResolvedConflict[] = [];
    for (const { value } of range) out.push(decodeResolved(asBuffer(value)));
    return out.reverse();
  }

  private records(start: Buffer, end: Buffer): OpenRecord[] {
    const out: OpenRecord[] = [];
    for (const { key, value } of this.db.getRange({ start, end })) {
      out.push({ key: Buffer.from(asBuffer(key)), conflict: decodeConflict(asBuffer(value)) });
    }
    return out;
  }

  /** The records at canonical path `path`: the unsuffixed key, then the numbered ones. */
  private recordsAt(path: Path): OpenRecord[] {
    const bare = openKey(path);
    const v = this.db.get(bare);
    const old = v === undefined ? [] : [{ key: bare, conflict: decodeConflict(asBuffer(v)) }];
    const start = Buffer.concat([bare, Buffer.from([0])]);
    const end = Buffer.concat([bare, Buffer.from([1])]);
    return [...old, ...this.records(start, end)];
  }

  private byVariant(vpath: Path): OpenRecord | undefined {
    return this.records(Buffer.from([OPEN]), Buffer.from([HISTORY])).find(
      (r) => r.conflict.variantPath === vpath,
    );
  }

  private recordOf(c: Conflict): OpenRecord | undefined {
    const bytes = encodeConflict(c);
    return this.recordsAt(c.path).find((r) => encodeConflict(r.conflict).equals(bytes));
  }

  private find(name: Path): OpenRecord | undefined {
    const v = this.byVariant(name);
    if (v !== undefined) return v;
    const here = this.recordsAt(name);
    if (here.length <= 1) return here[0];
    const plain = here.find((r) => r.conflict.variantPath === undefined);
    if (plain !== undefined) return plain;
    const names = here.map((r) => display(r.conflict.variantPath!));
    throw new TetherError(
      'EUSAGE',
      `${String(here.length)} conflicts are open at ${display(name)}; name one by its variant: ${names.join(', ')}`,
      { path: display(name), variants: names },
    );
  }

  private takeSeq(): bigint {
    if (this.nextSeq === undefined) {
      this.nextSeq = 0n;
      const last = this.db.getRange({
        start: Buffer.from([HISTORY + 1]),
        end: Buffer.from([HISTORY]),
        reverse: true,
        limit: 1,
      });
      for (const { key } of last) this.nextSeq = asBuffer(key).readBigUInt64BE(1) + 1n;
    }
    const seq = this.nextSeq;
    this.nextSeq = seq + 1n;
    return seq;
  }
}

interface OpenRecord {
  readonly key: Buffer;
  readonly conflict: Conflict;
}

/** The key of the n-th open conflict at `path` (without n: the key older versions wrote). */
function openKey(path: Path, n?: number): Buffer {
  const head = Buffer.concat([Buffer.from([OPEN]), bytesOf(path)]);
  if (n === undefined) return head;
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(n, 1);
  return Buffer.concat([head, tail]);
}

/** True when `key` is an open conflict's key at `path`, numbered or not (fsck's check). */
export function isOpenKeyOf(key: Buffer, path: Path): boolean {
  const head = openKey(path);
  if (key.length !== head.length && key.length !== head.length + 5) return false;
  return (
    key.subarray(0, head.length).equals(head) &&
    (key.length === head.length || key[head.length] === 0)
  );
}

/** n of a numbered key at `path` (0 for the unsuffixed one). */
function suffixOf(key: Buffer, path: Path): number {
  const at = 1 + bytesOf(path).length + 1;
  return key.length === at + 4 ? key.readUInt32BE(at) : 0;
}

/** Two records of the same conflict (one may have been written by a run cut short). */
function sameConflict(a: Conflict, b: Conflict): boolean {
  if (a.path !== b.path || a.kind !== b.kind) return false;
  if (a.variantPath !== undefined || b.variantPath !== undefined) {
    return a.variantPath === b.variantPath;
  }
  const three = (c: Conflict): Buffer[] =>
    [c.base, c.local, c.server].map((e) => entryBytesOrNull(e) ?? Buffer.alloc(0));
  const [x, y] = [three(a), three(b)];
  return x.every((e, i) => e.equals(y[i]!));
}

function historyKey(seq: bigint): Buffer {
  const key = Buffer.alloc(9);
  key[0] = HISTORY;
  key.writeBigUInt64BE(seq, 1);
  return key;
}

function asBuffer(v: unknown): Buffer {
  const b = asBytes(v);
  if (b === undefined) throw corrupt('a conflict record is not stored as bytes');
  return b;
}

function corrupt(why: string): TetherError {
  return new TetherError(
    'ECORRUPT',
    `conflict records are damaged: ${why}; run "tether fsck" on the store`,
  );
}

const read = new RecordFields(corrupt);

function conflictArray(c: Conflict): unknown[] {
  return [
    bytesOf(c.path),
    c.kind,
    entryBytesOrNull(c.base),
    entryBytesOrNull(c.local),
    entryBytesOrNull(c.server),
    [...c.fields],
    c.variantPath === undefined ? null : bytesOf(c.variantPath),
    c.informational,
    c.message,
  ];
}

function conflictOf(raw: unknown): Conflict {
  if (!Array.isArray(raw) || raw.length !== 9) throw corrupt('a record has the wrong shape');
  const [path, kind, base, local, server, fields, variantPath, informational, message] =
    raw as unknown[];
  const checkedPath = read.path(path);
  if (!KINDS.includes(kind as ConflictKind)) throw corrupt(`unknown kind ${String(kind)}`);
  const checkedFields = read.fields(fields);
  const variant =
    variantPath === null ? null : read.path(variantPath, 'a variant path is not bytes');
  if (typeof informational !== 'boolean' || typeof message !== 'string')
    throw corrupt('bad flags or message');
  return {
    path: checkedPath,
    kind: kind as ConflictKind,
    base: read.entryOrNull(base),
    local: read.entryOrNull(local),
    server: read.entryOrNull(server),
    fields: checkedFields,
    ...(variant === null ? {} : { variantPath: variant }),
    informational,
    message,
  };
}

export function encodeConflict(c: Conflict): Buffer {
  return packr.pack([FORMAT, conflictArray(c)]);
}

export function decodeConflict(bytes: Buffer): Conflict {
  const raw = unpack(bytes);
  return conflictOf(raw[1]);
}

function encodeResolved(r: ResolvedConflict): Buffer {
  return packr.pack([
    FORMAT,
    conflictArray(r.conflict),
    r.resolution,
    r.at,
    entryBytesOrNull(r.result),
    r.keptPath === undefined ? null : bytesOf(r.keptPath),
  ]);
}

export function decodeResolved(bytes: Buffer): ResolvedConflict {
  const raw = unpack(bytes);
  if (raw.length !== 6) throw corrupt('a history record has the wrong shape');
  const [, c, resolution, at, result, keptPath] = raw;
  if (!RESOLUTIONS.includes(resolution as Resolution))
    throw corrupt(`unknown resolution ${String(resolution)}`);
  if (typeof at !== 'number') throw corrupt('bad resolution time');
  const kept = keptPath === null ? null : read.path(keptPath, 'bad kept path');
  return {
    conflict: conflictOf(c),
    resolution: resolution as Resolution,
    at,
    result: read.entryOrNull(result),
    ...(kept === null ? {} : { keptPath: kept }),
  };
}

function unpack(bytes: Buffer): unknown[] {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (err) {
    throw corrupt(`not msgpack (${(err as Error).message})`);
  }
  if (!Array.isArray(raw) || raw[0] !== FORMAT) throw corrupt('unknown record format');
  return raw as unknown[];
}

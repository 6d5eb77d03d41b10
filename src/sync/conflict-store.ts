// Conflict records in the store: the truth about every conflicted path (a variant's file name
// is only a hint), and the history of conflicts that were resolved, by hand or automatically.
//
// One key space in the store's `conflicts` database, split by a one-byte prefix:
//   0x00 <path bytes>           an open conflict (so a range read lists them sorted by path)
//   0x01 <u64 big-endian seq>   a history record, in the order they were written
// Values are plain msgpack arrays (no records: the bytes do not depend on object key order);
// entries inside use the canonical tree-entry encoding, so they round-trip exactly (names as
// bytes, mtimes in nanoseconds, xattr values as bytes).
import { Packr } from 'msgpackr';
import { TetherError } from '../errors.js';
import type { Conflict, ConflictKind, Path } from '../merge/plan.js';
import {
  byteString,
  bytesOf,
  decodeTree,
  display,
  encodeTree,
  unsafePathReason,
} from '../tree/index.js';
import type { Entry, Field } from '../tree/index.js';
import type { KvDb } from './ports.js';

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
const FIELDS: readonly Field[] = [
  'kind',
  'content',
  'mode',
  'uid',
  'gid',
  'mtime',
  'rdev',
  'xattrs',
];
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });

export class ConflictStore {
  private nextSeq: bigint | undefined;

  constructor(private readonly db: ConflictDb) {}

  /** Every open conflict, sorted by path bytes. */
  list(): Conflict[] {
    const out: Conflict[] = [];
    for (const { value } of this.db.getRange({
      start: Buffer.from([OPEN]),
      end: Buffer.from([HISTORY]),
    })) {
      out.push(decodeConflict(asBuffer(value)));
    }
    return out;
  }

  /** The open conflict at `path`, if any. */
  get(path: Path): Conflict | undefined {
    const v = this.db.get(openKey(path));
    return v === undefined ? undefined : decodeConflict(asBuffer(v));
  }

  has(path: Path): boolean {
    return this.db.get(openKey(path)) !== undefined;
  }

  /** Record (or replace) the open conflict at `conflict.path`. */
  async put(conflict: Conflict): Promise<void> {
    await this.db.put(openKey(conflict.path), encodeConflict(conflict));
  }

  /** Forget the open conflict at `path` (no history); true when there was one. */
  async delete(path: Path): Promise<boolean> {
    const key = openKey(path);
    if (this.db.get(key) === undefined) return false;
    await this.db.remove(key);
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
  async resolve(path: Path, how: Omit<ResolvedConflict, 'conflict'>): Promise<ResolvedConflict> {
    const conflict = this.get(path);
    if (conflict === undefined) {
      throw new TetherError('ENOTFOUND', `no conflict is recorded at ${display(path)}`, {
        path: display(path),
      });
    }
    const resolved: ResolvedConflict = { conflict, ...how };
    await this.record(resolved);
    await this.db.remove(openKey(path));
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

function openKey(path: Path): Buffer {
  return Buffer.concat([Buffer.from([OPEN]), bytesOf(path)]);
}

function historyKey(seq: bigint): Buffer {
  const key = Buffer.alloc(9);
  key[0] = HISTORY;
  key.writeBigUInt64BE(seq, 1);
  return key;
}

function asBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw corrupt('a conflict record is not stored as bytes');
}

function corrupt(why: string): TetherError {
  return new TetherError(
    'ECORRUPT',
    `conflict records are damaged: ${why}; run "tether fsck" on the store`,
  );
}

/** Paths read back pass the tree's name rules: a tampered record must not leave a replica. */
function safePath(bytes: Uint8Array): void {
  const why = unsafePathReason(byteString(bytes));
  if (why !== undefined) throw corrupt(`the path ${display(byteString(bytes))} is unsafe: ${why}`);
}

function entryBytes(e: Entry | null): Buffer | null {
  return e === null ? null : encodeTree([e]);
}

function entryOf(v: unknown): Entry | null {
  if (v === null) return null;
  if (!(v instanceof Uint8Array)) throw corrupt('an entry is not bytes');
  const [e, ...rest] = decodeTree(v);
  if (e === undefined || rest.length > 0) throw corrupt('an entry encodes no single entry');
  return e;
}

function conflictArray(c: Conflict): unknown[] {
  return [
    bytesOf(c.path),
    c.kind,
    entryBytes(c.base),
    entryBytes(c.local),
    entryBytes(c.server),
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
  if (!(path instanceof Uint8Array)) throw corrupt('a path is not bytes');
  safePath(path);
  if (!KINDS.includes(kind as ConflictKind)) throw corrupt(`unknown kind ${String(kind)}`);
  if (!Array.isArray(fields) || !fields.every((f) => FIELDS.includes(f as Field)))
    throw corrupt('bad field list');
  if (variantPath !== null && !(variantPath instanceof Uint8Array))
    throw corrupt('a variant path is not bytes');
  if (variantPath !== null) safePath(variantPath);
  if (typeof informational !== 'boolean' || typeof message !== 'string')
    throw corrupt('bad flags or message');
  return {
    path: byteString(path),
    kind: kind as ConflictKind,
    base: entryOf(base),
    local: entryOf(local),
    server: entryOf(server),
    fields: fields as Field[],
    ...(variantPath === null ? {} : { variantPath: byteString(variantPath) }),
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
    entryBytes(r.result),
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
  if (keptPath !== null && !(keptPath instanceof Uint8Array)) throw corrupt('bad kept path');
  if (keptPath !== null) safePath(keptPath);
  return {
    conflict: conflictOf(c),
    resolution: resolution as Resolution,
    at,
    result: entryOf(result),
    ...(keptPath === null ? {} : { keptPath: byteString(keptPath) }),
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

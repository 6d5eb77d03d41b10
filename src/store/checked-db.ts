// Records of the other layers (plans, conflicts, settings, snapshot labels, scan caches) carry
// a checksum: the CRC-32 of key and value, as four bytes after the value. Objects are named by
// their hash and verified on every read; these records have no name to check against, and a
// flipped byte in one (a conflict's path, a cached stamp) would otherwise be believed. The
// check runs on read, so it costs a CRC of the record and nothing else: no rescans.
import { crc32 } from 'node:zlib';
import type { Database } from 'lmdb';
import { TetherError } from '../errors.js';
import type { KvDb } from './kv.js';
import { asBytes } from './kv.js';

const TRAILER = 4;

function sum(key: Buffer, value: Uint8Array): number {
  return crc32(value, crc32(key));
}

/** `value` with its checksum appended (as stored). */
export function sealRecord(key: Buffer, value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(value.length + TRAILER);
  value.copy(out, 0);
  out.writeUInt32BE(sum(key, value), value.length);
  return out;
}

/** The value of a stored record, or undefined when its checksum does not match. */
export function openRecord(key: Buffer, stored: Buffer): Buffer | undefined {
  if (stored.length < TRAILER) return undefined;
  const value = stored.subarray(0, stored.length - TRAILER);
  return stored.readUInt32BE(value.length) === sum(key, value) ? value : undefined;
}

export function damagedRecord(dir: string, db: string, key: Buffer): TetherError {
  return new TetherError(
    'EDAMAGED',
    `a record in the store's "${db}" database is damaged (key ${key.toString('hex').slice(0, 64)}): ` +
      `run "tether fsck --repair --store ${dir}" to set it aside, or restore the store from a backup`,
    { dir, db, key: key.toString('hex') },
  );
}

/**
 * A store database whose values are checked on read. `tolerant` (caches): a damaged record
 * reads as absent, since a cache is only ever a shortcut.
 */
export class CheckedDb implements KvDb {
  constructor(
    private readonly db: Database<Buffer, Buffer>,
    private readonly name: string,
    private readonly dir: string,
    private readonly tolerant = false,
  ) {}

  private open(key: Buffer, stored: unknown): Buffer | undefined {
    const bytes = asBytes(stored);
    if (bytes === undefined) return undefined;
    const value = openRecord(key, bytes);
    if (value === undefined && !this.tolerant) throw damagedRecord(this.dir, this.name, key);
    return value;
  }

  get(key: Buffer): unknown {
    return this.open(key, this.db.get(key));
  }

  put(key: Buffer, value: Buffer): Promise<boolean> {
    return this.db.put(key, sealRecord(key, value));
  }

  putSync(key: Buffer, value: Buffer): void {
    this.db.putSync(key, sealRecord(key, value));
  }

  remove(key: Buffer): Promise<boolean> {
    return this.db.remove(key);
  }

  removeSync(key: Buffer): void {
    this.db.removeSync(key);
  }

  *getRange(o: {
    start?: Buffer;
    end?: Buffer;
    reverse?: boolean;
    limit?: number;
  }): Iterable<{ key: unknown; value: unknown }> {
    for (const { key, value } of this.db.getRange(o)) {
      const v = this.open(key, value);
      if (v !== undefined) yield { key, value: v };
    }
  }
}

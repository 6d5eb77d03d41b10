// What the sync layer needs of the store: a narrow interface that src/store's Store satisfies,
// so apply, plan persistence and base updates can also run against an in-memory store in
// unit tests (STYLE: narrow interfaces, one conformance suite).
import type { ObjectStore, RefStore } from './types.js';

/** A key-value database inside the store (lmdb's Database, Buffer keys and values). */
export interface KvDb {
  get(key: Buffer): unknown;
  put(key: Buffer, value: Buffer): Promise<boolean>;
  /** Put now: inside a transaction (the store's transactionSync), as part of it. */
  putSync(key: Buffer, value: Buffer): void;
  remove(key: Buffer): Promise<boolean>;
  /** Remove now: inside a transaction (the store's transactionSync), as part of it. */
  removeSync(key: Buffer): void;
  getRange(options: {
    start?: Buffer;
    end?: Buffer;
    reverse?: boolean;
    limit?: number;
  }): Iterable<{ key: unknown; value: unknown }>;
}

export interface SyncStore extends ObjectStore, RefStore {
  /** A named sub-database ('plans', 'conflicts', 'sync'). */
  db(name: string): KvDb;
}

/** Bytes of a stored value, whatever the database's value encoding hands back. */
export function asBytes(v: unknown): Buffer | undefined {
  if (v === undefined || v === null) return undefined;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

/** Refs the sync layer keeps: the last synced tree and the last scans of both replicas. */
export const REF_BASE = 'sync/base';
export const REF_LOCAL = 'sync/local';
export const REF_SERVER = 'sync/server';

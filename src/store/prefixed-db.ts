// One cache of the store's caches database: its keys, the database's keys under a prefix.
import type { KvDb } from './kv.js';

export const CACHES = 'caches';

/** Keys of one cache: the database's keys that start with its prefix (which is dropped). */
export class PrefixedDb implements KvDb {
  constructor(
    private readonly db: KvDb,
    private readonly prefix: Buffer,
  ) {}

  private key(k: Buffer): Buffer {
    return Buffer.concat([this.prefix, k]);
  }

  get(key: Buffer): unknown {
    return this.db.get(this.key(key));
  }

  put(key: Buffer, value: Buffer): Promise<boolean> {
    return this.db.put(this.key(key), value);
  }

  putSync(key: Buffer, value: Buffer): void {
    this.db.putSync(this.key(key), value);
  }

  remove(key: Buffer): Promise<boolean> {
    return this.db.remove(this.key(key));
  }

  removeSync(key: Buffer): void {
    this.db.removeSync(this.key(key));
  }

  *getRange(o: {
    start?: Buffer;
    end?: Buffer;
    reverse?: boolean;
    limit?: number;
  }): Iterable<{ key: unknown; value: unknown }> {
    const after = Buffer.from(this.prefix);
    after[after.length - 1] = 1; // the prefix ends in NUL: every key of this cache sorts before this
    const first = o.start === undefined ? this.prefix : this.key(o.start);
    const last = o.end === undefined ? after : this.key(o.end);
    const range =
      o.reverse === true
        ? {
            start: o.start === undefined ? after : first,
            end: o.end === undefined ? this.prefix : last,
            reverse: true,
          }
        : { start: first, end: last };
    const limited = o.limit === undefined ? range : { ...range, limit: o.limit };
    for (const { key, value } of this.db.getRange(limited)) {
      const k = key as Buffer;
      if (!k.subarray(0, this.prefix.length).equals(this.prefix)) break;
      yield { key: k.subarray(this.prefix.length), value };
    }
  }
}

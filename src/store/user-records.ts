// The records other layers keep in a store (sync state, plans, conflicts, the volume's
// records): one LMDB database per name ('u:' + name), each record sealed with its checksum,
// and the scan caches, which share one database with a key prefix per cache.
import type { Database, RootDatabase } from 'lmdb';
import type { KvDb } from './kv.js';
import { CheckedDb, sealRecord } from './checked-db.js';
import { CACHES, PrefixedDb } from './prefixed-db.js';

/** The key, in the `o:meta` database, that says every user record is sealed. */
const SEALED = 'records-sealed';

export class UserRecords {
  private readonly userDbs = new Map<string, Database<Buffer, Buffer>>();
  private readonly checkedDbs = new Map<string, KvDb>();
  /** Every user record carries its checksum (false only for an old store opened read-only). */
  private isSealed = false;

  constructor(
    private readonly dir: string,
    private readonly env: RootDatabase,
    /** Undefined in a store opened read-only that has none yet (made before it existed). */
    private readonly meta: Database<string, string> | undefined,
  ) {}

  /**
   * Seal every user record of a store made before records had checksums, in one transaction
   * with the flag that says so (a crash leaves all or nothing sealed).
   */
  seal(readOnly: boolean): void {
    if (this.meta?.get(SEALED) === '1') {
      this.isSealed = true;
      return;
    }
    if (readOnly) return;
    this.env.transactionSync(() => {
      for (const name of this.names()) {
        const db = this.userDb(name);
        for (const { key, value } of db.getRange({})) db.putSync(key, sealRecord(key, value));
      }
      this.meta?.putSync(SEALED, '1');
    });
    this.isSealed = true;
  }

  get sealed(): boolean {
    return this.isSealed;
  }

  /** Names of the user databases there are (without their 'u:' prefix). */
  names(): string[] {
    const out: string[] = [];
    for (const key of this.env.getKeys({})) {
      if (typeof key === 'string' && key.startsWith('u:')) out.push(key.slice(2));
    }
    return out;
  }

  db(name: string): KvDb {
    let d = this.checkedDbs.get(name);
    if (d === undefined) {
      d = this.isSealed ? new CheckedDb(this.userDb(name), name, this.dir) : this.userDb(name);
      this.checkedDbs.set(name, d);
    }
    return d;
  }

  /** Every record of a user database as stored (key, value with its checksum). */
  *raw(name: string): Iterable<{ key: Buffer; stored: Buffer }> {
    for (const { key, value } of this.userDb(name).getRange({})) yield { key, stored: value };
  }

  /** Remove one record of a user database. */
  async drop(name: string, key: Buffer): Promise<void> {
    await this.userDb(name).remove(key);
  }

  /** A cache (all caches share one database; each name is a key prefix). */
  cacheDb(name: string): KvDb {
    // A damaged cache record reads as absent: a cache is only ever a shortcut.
    const db = this.isSealed
      ? new CheckedDb(this.userDb(CACHES), CACHES, this.dir, true)
      : this.db(CACHES);
    return new PrefixedDb(db, Buffer.from(name + '\0', 'utf8'));
  }

  /** Forget every cache. */
  async dropCaches(): Promise<void> {
    await this.userDb(CACHES).clearAsync();
  }

  private userDb(name: string): Database<Buffer, Buffer> {
    let d = this.userDbs.get(name);
    if (d === undefined) {
      d = this.env.openDB<Buffer, Buffer>('u:' + name, {
        keyEncoding: 'binary',
        encoding: 'binary',
      });
      this.userDbs.set(name, d);
    }
    return d;
  }
}

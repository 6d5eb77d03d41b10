// A store's refs: named pointers to objects (snapshots, the sync base, …) in the `o:refs`
// database, each moved in its own LMDB transaction only once the objects it names are
// durable (the store's flush), so a ref never names what a crash could lose.
import type { Database, RootDatabase } from 'lmdb';
import { TetherError } from '../errors.js';
import { isHash, type Hash } from '../tree/index.js';

export class Refs {
  constructor(
    private readonly dir: string,
    private readonly env: RootDatabase,
    private readonly refs: Database<string, string>,
    /** Throws when the store was opened read-only. */
    private readonly writable: () => void,
    /** Makes every object written so far durable. */
    private readonly flush: () => Promise<void>,
  ) {}

  get(name: string): Hash | undefined {
    const id = this.refs.get(name) ?? undefined;
    if (id !== undefined && !isHash(id)) {
      throw new TetherError(
        'EDAMAGED',
        `the store's ref ${name} is damaged (it names no object): run "tether fsck --repair ` +
          `--store ${this.dir}" to set it aside, or restore the store from a backup`,
        { name },
      );
    }
    return id;
  }

  /**
   * Move a ref (compare-and-set when `expected` is given: null for "no such ref"). `alongside`
   * runs inside the same transaction, for records that go with the ref (putSync).
   */
  async set(name: string, id: Hash, expected?: Hash | null, alongside?: () => void): Promise<void> {
    this.writable();
    if (!isHash(id)) throw new TetherError('EUSAGE', `not an object id: ${String(id)}`);
    // The objects the ref names must be durable before the ref is.
    await this.flush();
    const ok = this.refs.transactionSync(() => {
      const now = this.refs.get(name);
      if (expected !== undefined && (now ?? null) !== expected) return false;
      this.refs.putSync(name, id);
      alongside?.();
      return true;
    });
    if (!ok) {
      throw new TetherError(
        'ECHANGED',
        `ref ${name} changed while this command ran (another tether process?); run it again`,
        { name },
      );
    }
    await this.env.flushed;
  }

  /** Move several refs at once, atomically (no compare-and-set). */
  async setAll(refs: Readonly<Record<string, Hash>>, alongside?: () => void): Promise<void> {
    this.writable();
    for (const id of Object.values(refs)) {
      if (!isHash(id)) throw new TetherError('EUSAGE', `not an object id: ${String(id)}`);
    }
    await this.flush();
    this.refs.transactionSync(() => {
      for (const [name, id] of Object.entries(refs)) this.refs.putSync(name, id);
      alongside?.();
    });
    await this.env.flushed;
  }

  async delete(name: string): Promise<void> {
    this.writable();
    await this.refs.remove(name);
    await this.env.flushed;
  }

  list(prefix: string): { name: string; id: Hash }[] {
    const out: { name: string; id: Hash }[] = [];
    for (const { key, value } of this.refs.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push({ name: key, id: value });
    }
    return out;
  }
}

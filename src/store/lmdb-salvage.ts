// fsck --repair of a damaged B-tree page: the database is rebuilt from every record the walk
// can still read (lmdb-trees.ts gathers them from the newest snapshot, skipping each damaged
// page's subtree), and the damaged environment is kept in quarantine/. Nothing is rolled back:
// every record of the last commit that can be read is kept, and the report says, database by
// database, how many records were lost with the damaged pages. fsck's own checks then say
// which snapshots and sync states miss objects.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb, type Database } from 'lmdb';
import { damagedDb, DB } from './lmdb-header.js';
import { checkLmdbTrees, gatherLmdb } from './lmdb-trees.js';
import { FREE_PAGES } from './lmdb-walk.js';
import { syncDir } from './store-files.js';

/** What the rebuild did, in lines for the user. */
export interface Salvage {
  readonly lines: string[];
}

const bin = { keyEncoding: 'binary', encoding: 'binary' } as const;

/**
 * Rebuild `<dir>/db` when a page of its trees is damaged; undefined when none is. The caller
 * holds the store (no other process may have the environment open).
 */
export async function salvageLmdb(dir: string): Promise<Salvage | undefined> {
  try {
    checkLmdbTrees(dir, 'full');
    return undefined;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EDAMAGED') throw err;
  }
  // The named databases first (the main database's pages only): tether makes them all with
  // plain keys and values; one with other flags (duplicates, integer keys) it cannot remake.
  const names = new Map<string, number>();
  gatherLmdb(dir, {
    leaves: false,
    onDatabase: (name, rec) => {
      names.set(name, Number(rec.readBigUInt64LE(DB.pages + 24)));
      const flags = rec.readUInt16LE(DB.flags);
      if (flags !== 0) {
        throw damagedDb(
          dir,
          `database "${name}" has flags 0x${flags.toString(16)} tether does not make, so it ` +
            'cannot be rebuilt; restore the store directory from a backup',
        );
      }
    },
  });
  const fresh = join(dir, 'db-rebuild');
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { mode: 0o700 });
  const env = openLmdb({ path: fresh, maxDbs: 64, mapSize: 2 ** 34, commitDelay: 0, ...bin });
  const kept = new Map<string, number>();
  let damages: ReturnType<typeof gatherLmdb> = [];
  try {
    const dbs = new Map<string, Database<Buffer, Buffer>>();
    for (const name of names.keys()) dbs.set(name, env.openDB<Buffer, Buffer>(name, bin));
    env.transactionSync(() => {
      damages = gatherLmdb(dir, {
        onRecord: (db, key, value) => {
          const target = db === '' ? env : dbs.get(db);
          // A named database met only now sat under a damaged page of the first pass's walk.
          if (target === undefined) return;
          target.putSync(Buffer.from(key), Buffer.from(value));
          kept.set(db, (kept.get(db) ?? 0) + 1);
        },
      });
    });
  } finally {
    await env.close();
  }
  const quarantine = join(dir, 'quarantine', `db-${Date.now()}`);
  mkdirSync(join(dir, 'quarantine'), { recursive: true, mode: 0o700 });
  renameSync(join(dir, 'db'), quarantine);
  renameSync(fresh, join(dir, 'db'));
  await syncDir(dir);
  const lines = damages.map(
    (d) =>
      `damaged: ${d.message}: ` +
      (d.db === FREE_PAGES ? 'the rebuilt database has its own' : 'the records under it are lost'),
  );
  for (const [name, expected] of names) {
    const got = kept.get(name) ?? 0;
    if (got < expected) {
      lines.push(`database "${name}": ${got} of ${expected} records could be read`);
    }
  }
  lines.push(
    'the database was rebuilt from every record that could be read; the damaged one is kept ' +
      `in ${quarantine}`,
  );
  return { lines };
}

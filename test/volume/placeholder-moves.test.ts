// The records of placeholders through a rename or a link, stopped after each step as a kill -9
// would stop it: at every point each placeholder's inode is named by a record, and no record
// makes a file that is not a placeholder one.
import test from 'ava';
import { linkSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { linkPlaceholder, movePlaceholders } from '../../src/volume/placeholder-moves.js';
import { Placeholders } from '../../src/volume/placeholders.js';
import { tempDir } from '../cli/run.js';

async function setup(t: { teardown(fn: () => Promise<void> | void): void }) {
  const { dir, cleanup } = tempDir('tether-ph-');
  const store = await Store.create(join(dir, 'store'));
  t.teardown(async () => {
    await store.close();
    cleanup();
  });
  const root = join(dir, 'local');
  mkdirSync(join(root, 'd'), { recursive: true });
  const p = new Placeholders(store.db('volume'), Buffer.from(root));
  for (const f of ['a', 'd/x', 'd/y', 'real']) {
    writeFileSync(join(root, f), f === 'real' ? 'content' : Buffer.alloc(4));
    if (f !== 'real') await p.add(f, BigInt(statSync(join(root, f)).ino));
  }
  return { root, p };
}

/** Stops a move right after its operation, before the old records go (a kill there). */
class Stop extends Error {}

test('a rename moves the records, and every step leaves each placeholder recorded', async (t) => {
  const { root, p } = await setup(t);
  // Killed after the new records, before the rename.
  await t.throwsAsync(
    movePlaceholders(p, 'd', 'e', () => Promise.reject(new Stop())),
    { instanceOf: Stop },
  );
  t.true(p.isNow('d/x') && p.isNow('d/y'), 'still placeholders where they are');
  t.false(p.isNow('e/x'), 'a failed rename leaves no record behind');
  // Killed after the rename, before the old records go: the new names are placeholders.
  await movePlaceholders(p, 'd', 'e', async () => {
    renameSync(join(root, 'd'), join(root, 'e'));
    t.true(p.isNow('e/x') && p.isNow('e/y'));
    t.false(p.isNow('d/x'));
  });
  t.deepEqual([...p.under('')].sort(), ['a', 'e/x', 'e/y']);
  t.deepEqual(p.recordNow('e/x')?.origin, 'd/x');
  // A file renamed over a placeholder: the replaced one's record goes, the real file is none.
  await movePlaceholders(p, 'real', 'a', async () => {
    renameSync(join(root, 'real'), join(root, 'a'));
  });
  t.false(p.isNow('a'));
  // A link of a placeholder is one; content arriving at one name ends them all.
  await linkPlaceholder(p, 'e/x', 'l', async () => {
    linkSync(join(root, 'e', 'x'), join(root, 'l'));
  });
  t.is(p.recordNow('l')?.origin, 'd/x');
  await p.removeInode('e/x');
  t.false(p.isNow('l'));
  t.false(p.isNow('e/x'));
  t.true(p.isNow('e/y'));
});

// Paths that vanish during the walk: one gone between the listing and its lstat is simply not
// in the tree; one gone between its lstat and the read of its content stops the scan with a
// message that names it and says to run again — and what was stored stays sound.
import test from 'ava';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTetherError } from '../../src/errors.js';
import { fsck } from '../../src/store/fsck.js';
import { Store } from '../../src/store/store.js';
import { scanReplica } from '../../src/sync/scan-replica.js';
import { tempDir } from '../cli/run.js';

async function setup(): Promise<{ root: string; store: Store; done: () => Promise<void> }> {
  const t = tempDir();
  const root = join(t.dir, 'tree');
  mkdirSync(root);
  for (const n of ['a', 'b', 'c', 'd', 'e']) writeFileSync(join(root, n), `content ${n}`);
  const store = await Store.create(join(t.dir, 'store'));
  return {
    root,
    store,
    done: async () => {
      await store.close();
      t.cleanup();
    },
  };
}

test('a path removed after the listing is absent from the tree', async (t) => {
  const { root, store, done } = await setup();
  try {
    let first: string | undefined;
    const id = await scanReplica(store, root, {
      content: 'hash',
      onEntry: (path) => {
        if (first !== undefined) return;
        first = path;
        for (const n of readdirSync(root)) if (n !== path) rmSync(join(root, n));
      },
    });
    t.deepEqual(
      store.readTree(id).map((e) => e.name),
      [first],
    );
  } finally {
    await done();
  }
});

test('a file removed before its content is read stops the scan with a clear message', async (t) => {
  const { root, store, done } = await setup();
  try {
    const err = await t.throwsAsync(
      scanReplica(store, root, {
        content: 'hash',
        onEntry: (path) => {
          if (path === 'c') rmSync(join(root, 'c'));
        },
      }),
    );
    t.true(isTetherError(err) && err.code === 'ECHANGED');
    t.regex(err.message, /^c in .* vanished while it was read; run again$/);
    t.deepEqual((await fsck(store)).problems, [], 'the store is sound');
  } finally {
    await done();
  }
});

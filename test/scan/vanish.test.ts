// Paths that vanish during the walk: a directory gone between its parent's listing and its own
// is simply not in the tree; a file gone between the listing and the read of its content stops
// the scan with a message that names it and says to run again — and what was stored stays sound
// — unless the caller collects per-path problems: then it, and a file that fails with EIO, is
// left as base has it and reported.
import test from 'ava';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTetherError } from '../../src/errors.js';
import { fsck } from '../../src/store/fsck.js';
import { Store } from '../../src/store/store.js';
import { scanReplica } from '../../src/scan/scan-replica.js';
import { tempDir } from '../cli/run.js';

async function setup(): Promise<{ root: string; store: Store; done: () => Promise<void> }> {
  const t = tempDir();
  const root = join(t.dir, 'tree');
  mkdirSync(root);
  for (const n of ['a', 'b', 'c', 'd', 'e']) writeFileSync(join(root, n), `content ${n}`);
  for (const n of ['da', 'db', 'dc']) {
    mkdirSync(join(root, n));
    writeFileSync(join(root, n, 'f'), `in ${n}`);
  }
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

test('a directory removed after its parent was listed is absent from the tree', async (t) => {
  const { root, store, done } = await setup();
  try {
    let first: string | undefined;
    const id = await scanReplica(store, root, {
      content: 'hash',
      onEntry: (path) => {
        if (first !== undefined || !path.startsWith('d')) return;
        first = path;
        for (const n of readdirSync(root)) {
          if (n.startsWith('d') && n !== path) rmSync(join(root, n), { recursive: true });
        }
      },
    });
    t.deepEqual(
      store.readTree(id).map((e) => e.name),
      ['a', 'b', 'c', first, 'e'],
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
    t.regex(err.message, /^c in .* vanished while it was read; the run stopped, and the next run/);
    t.deepEqual((await fsck(store)).problems, [], 'the store is sound');
  } finally {
    await done();
  }
});

test('with problems collected, a vanished file and an EIO are reported and left as base has them', async (t) => {
  const { root, store, done } = await setup();
  try {
    const base = await scanReplica(store, root, { content: 'hash' });
    writeFileSync(join(root, 'a'), 'changed a');
    writeFileSync(join(root, 'b'), 'changed b');
    writeFileSync(join(root, 'n'), 'new');
    const problems: { path: string; reason: string }[] = [];
    const id = await scanReplica(store, root, {
      content: 'hash',
      base,
      problems,
      read: (p, path) => {
        if (path === 'a') rmSync(p);
        const code = path === 'a' ? 'ENOENT' : path === 'b' || path === 'n' ? 'EIO' : undefined;
        if (code !== undefined) {
          return Promise.reject(Object.assign(new Error(`${code}: test`), { code }));
        }
        return store.putBlobFile(p).then((r) => r.id);
      },
    });
    t.deepEqual(
      problems.map((p) => p.path),
      ['a', 'b', 'n'],
    );
    t.regex(problems[0]!.reason, /vanished while it was read; it was left as it is this run/);
    t.regex(problems[1]!.reason, /input\/output error \(EIO.*check the device or the mount/);
    const before = new Map(store.readTree(base).map((e) => [e.name, e]));
    const after = new Map(store.readTree(id).map((e) => [e.name, e]));
    t.deepEqual(after.get('a'), before.get('a'), 'base entry in place of what vanished');
    t.deepEqual(after.get('b'), before.get('b'), 'base entry in place of what failed');
    t.false(after.has('n'), 'a new file that failed is left out');
  } finally {
    await done();
  }
});

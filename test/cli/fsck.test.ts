// `tether fsck` as a user runs it: a sound store exits 0; damaged and missing objects exit 1
// naming the snapshots they affect; --repair moves what is corrupt to quarantine/; a
// directory that is not a store is refused with what to do.
import test from 'ava';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { hashBytes, type Entry, type Hash } from '../../src/tree/index.js';
import { tempDir, tether } from './run.js';

const file = (name: string, id: Hash, size: number): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size,
  mtimeNs: 0n,
  id,
});

interface Fixture {
  readonly store: string;
  readonly big: Hash;
  readonly small: Hash;
  readonly loose: Hash;
  cleanup(): void;
}

/** A store with one snapshot naming a small and a big blob, plus a big blob nothing names. */
async function fixture(): Promise<Fixture> {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'store');
  const s = await Store.create(dir);
  try {
    const small = await s.putBlob(Buffer.from('small'));
    const big = await s.putBlob(Buffer.alloc(100_000, 'b'));
    const loose = await s.putBlob(Buffer.alloc(100_000, 'l'));
    const sub = s.putTree([file('big', big, 100_000), file('small', small, 5)]);
    const root = s.putTree([{ ...file('d', sub, 0), kind: 'dir', size: 0 }]);
    await s.setRef('snap/v1', root);
    return { store: dir, big, small, loose, cleanup: tmp.cleanup };
  } finally {
    await s.close();
  }
}

function damage(store: string, id: Hash): void {
  const path = join(store, 'blobs', id.slice(0, 2), id.slice(2));
  chmodSync(path, 0o600);
  writeFileSync(path, 'damaged');
}

test('a sound store: exit 0, a one-line summary, and --json', async (t) => {
  const f = await fixture();
  try {
    const r = tether(['fsck', '--store', f.store]);
    t.is(r.status, 0, r.stderr);
    t.regex(
      r.stdout,
      /^2 trees, 3 blobs, 1 refs, 0 records checked: ok\nunreferenced objects: 1 \(.+\); "tether gc" frees them\n$/,
    );
    const j = tether(['fsck', '--store', f.store, '--json']);
    t.is(j.status, 0);
    t.like(JSON.parse(j.stdout), {
      trees: 2,
      blobs: 3,
      refs: 1,
      problems: [],
      repaired: false,
      unreferenced: { count: 1, bytes: 100_000 },
    });
  } finally {
    f.cleanup();
  }
});

test('damage: exit 1 naming the snapshot; --repair quarantines; what nothing named is then clean', async (t) => {
  const f = await fixture();
  try {
    damage(f.store, f.loose);
    const r = tether(['fsck', '--store', f.store, '--json']);
    t.is(r.status, 1);
    const report = JSON.parse(r.stdout) as {
      problems: { kind: string; object: string; refs: string[] }[];
    };
    t.deepEqual(
      report.problems.map((p) => [p.kind, p.object, p.refs]),
      [['corrupt', `blob ${f.loose}`, []]],
    );
    const fixed = tether(['fsck', '--store', f.store, '--repair']);
    t.is(fixed.status, 1, 'the run that found problems says so');
    t.regex(fixed.stdout, /moved to .*quarantine/);
    t.is(readdirSync(join(f.store, 'quarantine')).length, 1, 'kept, not deleted');
    t.is(tether(['fsck', '--store', f.store]).status, 0, 'clean afterwards');

    damage(f.store, f.big);
    const again = tether(['fsck', '--store', f.store]);
    t.is(again.status, 1);
    t.regex(again.stdout, new RegExp(`corrupt: blob ${f.big}.*reached from snap/v1`));
    t.regex(again.stdout, /run with --repair/);
    tether(['fsck', '--store', f.store, '--repair']);
    const after = tether(['fsck', '--store', f.store]);
    t.is(after.status, 1, 'the snapshot still lacks what was quarantined');
    t.regex(
      after.stdout,
      new RegExp(`missing: blob ${f.big}: referenced but not stored \\(reached from snap/v1\\)`),
    );
  } finally {
    f.cleanup();
  }
});

test('a ref naming a tree that is not stored is reported missing', async (t) => {
  const f = await fixture();
  try {
    const s = await Store.open(f.store);
    try {
      await s.setRef('snap/ghost', hashBytes(Buffer.from('no such tree')));
    } finally {
      await s.close();
    }
    const r = tether(['fsck', '--store', f.store]);
    t.is(r.status, 1);
    t.regex(
      r.stdout,
      /missing: tree [0-9a-f]{64}: referenced but not stored \(reached from snap\/ghost\)/,
    );
  } finally {
    f.cleanup();
  }
});

test('not a store: refused with what to do, and nothing is created', (t) => {
  const tmp = tempDir();
  try {
    const plain = join(tmp.dir, 'plain');
    mkdirSync(plain);
    for (const dir of [plain, join(tmp.dir, 'missing')]) {
      const r = tether(['fsck', '--store', dir]);
      t.is(r.status, 1, dir);
      t.regex(r.stderr, /is not a tether store .*--store/);
      t.is(r.stdout, '');
    }
    t.deepEqual(readdirSync(plain), []);
    t.deepEqual(readdirSync(tmp.dir), ['plain']);
  } finally {
    tmp.cleanup();
  }
});

// What a local stamp may decide (DESIGN decision 16): a file rewritten with its size and mtime
// put back (cp -p, rsync -t, tar x, touch -r) is a change, found by its ctime and inode, and
// is sent or kept as a variant like any other edit. Two files of one size swapped, with or
// without the same mtime, are two edits.
import test from 'ava';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { tempDir } from '../cli/run.js';

/** An hour ago, in seconds: old enough that no racy-stamp guard reads the file anyway. */
const OLD = Math.floor(Date.now() / 1000) - 3600;

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly store: Store;
  done(): Promise<void>;
}

async function pair(files: Record<string, string>, mtimes?: Record<string, number>): Promise<Pair> {
  const tmp = tempDir();
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  for (const r of [a, b]) {
    mkdirSync(r);
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(r, name), text, { flag: 'w' });
      const t = mtimes?.[name] ?? OLD;
      utimesSync(join(r, name), t, t);
    }
  }
  const store = await Store.create(join(tmp.dir, 'store'));
  await runSyncDirs(store, a, b, {});
  return {
    a,
    b,
    store,
    done: async () => {
      await store.close();
      tmp.cleanup();
    },
  };
}

/** Rewrite `path` with `text` (of the same size) and put its mtime back, as touch -r does. */
function rewriteKeepingStamp(path: string, text: string): void {
  const st = statSync(path);
  writeFileSync(path, text);
  utimesSync(path, st.atime, st.mtime);
}

const variantsIn = (dir: string): string[] =>
  readdirSync(dir).filter((n) => n.includes('.conflict-local-'));

test('a local rewrite that keeps size and mtime is sent to the server', async (t) => {
  const p = await pair({ f: 'AAA\n' });
  try {
    rewriteKeepingStamp(join(p.a, 'f'), 'BBB\n');
    const s = await runSyncDirs(p.store, p.a, p.b, {});
    t.is(s.failures.length, 0);
    t.is(readFileSync(join(p.b, 'f'), 'utf8'), 'BBB\n');
    const again = await runSyncDirs(p.store, p.a, p.b, {});
    t.is(again.plan.actions.length, 0);
  } finally {
    await p.done();
  }
});

test('a local rewrite that keeps size and mtime, against a server edit, is a conflict', async (t) => {
  const p = await pair({ f: 'AAA\n' });
  try {
    rewriteKeepingStamp(join(p.a, 'f'), 'BBB\n');
    writeFileSync(join(p.b, 'f'), 'SRV\n');
    const s = await runSyncDirs(p.store, p.a, p.b, {});
    t.is(s.conflicts.length, 1);
    t.is(readFileSync(join(p.a, 'f'), 'utf8'), 'SRV\n');
    const v = variantsIn(p.a);
    t.is(v.length, 1);
    t.is(readFileSync(join(p.a, v[0]!), 'utf8'), 'BBB\n');
  } finally {
    await p.done();
  }
});

for (const sameMtime of [false, true]) {
  test(`two files of one size swapped${sameMtime ? ', with one mtime,' : ''} are both sent`, async (t) => {
    const p = await pair({ a: 'AAA\n', b: 'BBB\n' }, sameMtime ? undefined : { a: OLD - 10 });
    try {
      const tmp = join(p.a, 't');
      renameSync(join(p.a, 'a'), tmp);
      renameSync(join(p.a, 'b'), join(p.a, 'a'));
      renameSync(tmp, join(p.a, 'b'));
      const s = await runSyncDirs(p.store, p.a, p.b, {});
      t.is(s.failures.length, 0);
      t.is(readFileSync(join(p.b, 'a'), 'utf8'), 'BBB\n');
      t.is(readFileSync(join(p.b, 'b'), 'utf8'), 'AAA\n');
      // A server edit afterwards loses nothing either.
      writeFileSync(join(p.b, 'b'), 'CCC\n');
      await runSyncDirs(p.store, p.a, p.b, {});
      t.is(readFileSync(join(p.a, 'b'), 'utf8'), 'CCC\n');
      t.is(readFileSync(join(p.a, 'a'), 'utf8'), 'BBB\n');
    } finally {
      await p.done();
    }
  });
}

test('on a server replica that keeps ctime and inodes, a rewrite that keeps size and mtime is taken', async (t) => {
  const p = await pair({ f: 'AAA\n' });
  try {
    rewriteKeepingStamp(join(p.b, 'f'), 'SRV\n');
    const s = await runSyncDirs(p.store, p.a, p.b, {});
    t.is(s.failures.length, 0);
    t.is(readFileSync(join(p.a, 'f'), 'utf8'), 'SRV\n');
  } finally {
    await p.done();
  }
});

test('a local rewrite that keeps size and mtime between scan and apply is not overwritten', async (t) => {
  const p = await pair({ f: 'AAA\n' });
  try {
    writeFileSync(join(p.b, 'f'), 'SRV\n');
    const s = await runSyncDirs(p.store, p.a, p.b, {
      hooks: {
        beforeAction: (_i, a) => {
          if (a.op === 'put' && a.side === 'local') rewriteKeepingStamp(join(p.a, 'f'), 'BBB\n');
        },
      },
    });
    t.is(s.failures.length, 1, 'the copy was refused');
    t.is(readFileSync(join(p.a, 'f'), 'utf8'), 'BBB\n');
    const next = await runSyncDirs(p.store, p.a, p.b, {});
    t.is(next.conflicts.length, 1, 'then a conflict keeps both');
    t.is(readFileSync(join(p.a, variantsIn(p.a)[0]!), 'utf8'), 'BBB\n');
  } finally {
    await p.done();
  }
});

test('each side is probed for its timestamp granularity once, not on every sync', async (t) => {
  /** The names with "probe" in them made in `dir` while `fn` runs, as inotify reports them. */
  const madeDuring = async (dir: string, fn: () => Promise<unknown>): Promise<string[]> => {
    const seen: string[] = [];
    const w = watch(dir, (_e, name) => {
      if (name !== null) seen.push(name);
    });
    try {
      await fn();
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      w.close();
    }
    return seen.filter((n) => n.includes('probe'));
  };
  const p = await pair({ kept: 'k\n' });
  try {
    writeFileSync(join(p.a, 'f'), 'x\n');
    t.deepEqual(await madeDuring(p.b, () => runSyncDirs(p.store, p.a, p.b, {})), []);
    t.deepEqual(await madeDuring(p.a, () => runSyncDirs(p.store, p.a, p.b, { dryRun: true })), []);
    t.is(readFileSync(join(p.b, 'f'), 'utf8'), 'x\n');
    // A store that has not synced this pair before probes.
    const fresh = await Store.create(join(p.a, '..', 'another-store'));
    try {
      const made = await madeDuring(p.b, () => runSyncDirs(fresh, p.a, p.b, {}));
      t.true(made.length > 0, 'the server side is probed');
    } finally {
      await fresh.close();
    }
    t.deepEqual(
      readdirSync(p.b).filter((n) => n.includes('probe')),
      [],
    );
  } finally {
    await p.done();
  }
});

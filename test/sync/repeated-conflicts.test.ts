// Conflicts are never merged away (MERGE.md invariant 1): a second conflict on a path that
// has an open one gets its own record and its own variant; a conflict is recorded before its
// variant is made, so a run that fails (or is killed) after the variant exists still lists
// it; and a recorded variant never reaches the server unless resolve --take both puts it there.
import test from 'ava';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { resolveConflict } from '../../src/sync/resolve.js';
import { openResolveSession } from '../../src/sync/resolve-session.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { tempDir } from '../cli/run.js';

const OLD = Math.floor(Date.now() / 1000) - 3600;

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly storeDir: string;
  sync(hooks?: Parameters<typeof runSyncDirs>[3]): ReturnType<typeof runSyncDirs>;
  cleanup(): void;
}

async function pair(text: string): Promise<Pair> {
  const tmp = tempDir();
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  const storeDir = join(tmp.dir, 'store');
  for (const r of [a, b]) {
    mkdirSync(r);
    writeFileSync(join(r, 'f'), text);
    writeFileSync(join(r, 'other'), 'other\n');
    utimesSync(join(r, 'f'), OLD, OLD);
  }
  const withStore = async <T>(fn: (s: Store) => Promise<T> | T): Promise<T> => {
    const s = await Store.open(storeDir);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };
  await Store.create(storeDir).then((s) => s.close());
  await withStore((s) => runSyncDirs(s, a, b));
  return {
    a,
    b,
    storeDir,
    sync: (opts) => withStore((s) => runSyncDirs(s, a, b, opts)),
    cleanup: tmp.cleanup,
  };
}

async function openConflicts(storeDir: string) {
  const s = await openResolveSession(storeDir);
  try {
    return s.env.conflicts.list();
  } finally {
    await s.close();
  }
}

const variantsIn = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.includes('.conflict-local-'))
    .sort();

test.serial(
  'a second conflict on a path with an open one gets its own record and variant',
  async (t) => {
    const p = await pair('base\n');
    try {
      writeFileSync(join(p.a, 'f'), 'local b\n');
      writeFileSync(join(p.b, 'f'), 'server c\n');
      t.is((await p.sync()).conflicts.length, 1);
      writeFileSync(join(p.a, 'f'), 'local b2\n');
      writeFileSync(join(p.b, 'f'), 'server d\n');
      t.is((await p.sync()).conflicts.length, 1);

      const open = await openConflicts(p.storeDir);
      t.is(open.length, 2, 'both conflicts are listed');
      const variants = variantsIn(p.a);
      t.is(variants.length, 2);
      t.deepEqual(variants.map((v) => readFileSync(join(p.a, v), 'utf8')).sort(), [
        'local b\n',
        'local b2\n',
      ]);
      t.deepEqual(
        open.map((c) => c.variantPath).sort(),
        variants,
        'each record names its own variant',
      );

      // Resolving the newer one (named by its variant) takes b2 and leaves the older one open.
      const newer = open.find(
        (c) => readFileSync(join(p.a, c.variantPath!), 'utf8') === 'local b2\n',
      )!;
      const s = await openResolveSession(p.storeDir, { lock: true });
      try {
        await resolveConflict(s.env, newer.variantPath!, 'local');
      } finally {
        await s.close();
      }
      t.is(readFileSync(join(p.b, 'f'), 'utf8'), 'local b2\n');
      const left = await openConflicts(p.storeDir);
      t.is(left.length, 1);
      t.not(left[0]!.variantPath, newer.variantPath);

      // The next sync leaves the open variant where it is: never uploaded as a user file.
      const after = await p.sync();
      t.is(after.failures.length, 0);
      t.deepEqual(variantsIn(p.b), []);
      t.is(readFileSync(join(p.a, left[0]!.variantPath!), 'utf8'), 'local b\n');
    } finally {
      p.cleanup();
    }
  },
);

test.serial(
  'a conflict whose copy from the server fails after the variant was made stays recorded',
  async (t) => {
    const p = await pair('base\n');
    try {
      writeFileSync(join(p.a, 'f'), 'local b\n');
      writeFileSync(join(p.b, 'f'), 'server c\n');
      const s = await p.sync({
        hooks: {
          beforeAction: (_i, a) => {
            // The server's file changes again between the scan and the copy: the put is refused.
            if (a.op === 'put' && a.side === 'local' && a.path === 'f') {
              writeFileSync(join(p.b, 'f'), 'server c, again\n');
            }
          },
        },
      });
      t.is(s.failures.length, 1);
      const variants = variantsIn(p.a);
      t.is(variants.length, 1, 'the variant was made');
      t.is((await openConflicts(p.storeDir)).length, 1, 'and its conflict is recorded');

      const next = await p.sync();
      t.is(next.failures.length, 0);
      t.deepEqual(variantsIn(p.b), [], 'the variant is not uploaded');
      t.is(readFileSync(join(p.a, variants[0]!), 'utf8'), 'local b\n');
      t.is(readFileSync(join(p.a, 'f'), 'utf8'), 'server c, again\n');
      t.is((await openConflicts(p.storeDir)).length, 1);
    } finally {
      p.cleanup();
    }
  },
);

test.serial('a second variant with the name of a recorded one takes the next suffix', async (t) => {
  const p = await pair('base\n');
  try {
    const now = new Date(1_800_000_000_000);
    writeFileSync(join(p.a, 'f'), 'local b\n');
    writeFileSync(join(p.b, 'f'), 'server c\n');
    await p.sync({ now });
    // The same local content again, in a run with the same start: the same name would clash.
    writeFileSync(join(p.a, 'f'), 'local b\n');
    writeFileSync(join(p.b, 'f'), 'server d\n');
    const s = await p.sync({ now });
    t.is(s.failures.length, 0);
    const variants = variantsIn(p.a);
    t.is(variants.length, 2);
    t.regex(variants[1]!, /-2$/);
    t.is((await openConflicts(p.storeDir)).length, 2);
  } finally {
    p.cleanup();
  }
});

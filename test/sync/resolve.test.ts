// resolve against hand-built state: real replica directories in a temp dir, a real LMDB
// conflict store, and an in-memory base (the unit under test only needs SyncBase). Each case
// sets up what a sync leaves behind — the canonical entry on both sides, the local variant
// file in A — runs one decision, and checks both replicas, base and the history.
import test, { type ExecutionContext } from 'ava';
import { open, type RootDatabase } from 'lmdb';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTetherError } from '../../src/errors.js';
import type { Conflict, ConflictKind, Path } from '../../src/merge/plan.js';
import { ConflictStore } from '../../src/sync/conflict-store.js';
import {
  entryAt,
  full,
  resolveConflict,
  type ResolveEnv,
  type SyncBase,
  type Take,
} from '../../src/sync/resolve.js';
import { fromText, hashBytes, type Entry, type Hash } from '../../src/tree/index.js';

class MemBase implements SyncBase {
  readonly entries = new Map<Path, Entry>();
  readonly blobs = new Map<Hash, Buffer>();
  entryAt(path: Path): Entry | undefined {
    return this.entries.get(path);
  }
  async readBlob(id: Hash): Promise<Buffer> {
    const b = this.blobs.get(id);
    if (b === undefined) throw new Error(`no blob ${id}`);
    return b;
  }
  async advance(updates: readonly { path: Path; entry: Entry | null }[]): Promise<void> {
    for (const u of updates) {
      if (u.entry === null) this.entries.delete(u.path);
      else this.entries.set(u.path, u.entry);
    }
  }
}

interface World {
  readonly dir: string;
  readonly a: string;
  readonly b: string;
  readonly base: MemBase;
  readonly conflicts: ConflictStore;
  readonly env: ResolveEnv;
}

async function withWorld(_t: ExecutionContext, run: (w: World) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-resolve-'));
  const root: RootDatabase = open({ path: join(dir, 'db') });
  try {
    const a = join(dir, 'A');
    const b = join(dir, 'B');
    await mkdir(join(a, 'd'), { recursive: true });
    await mkdir(join(b, 'd'), { recursive: true });
    const conflicts = new ConflictStore(
      root.openDB({ name: 'conflicts', keyEncoding: 'binary', encoding: 'binary' }),
    );
    const base = new MemBase();
    const env: ResolveEnv = {
      conflicts,
      base,
      localRoot: a,
      serverRoot: b,
      now: () => new Date('2026-03-04T05:06:07Z'),
    };
    await run({ dir, a, b, base, conflicts, env });
  } finally {
    await root.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const P = fromText('d/notes.txt');
const V = fromText('d/notes.conflict-local-20260304T050607Z-abcdef01.txt');
const texts = { base: 'base\n', local: 'local\n', server: 'server\n' };

function fileEntry(text: string, mode = 0o644): Entry {
  const data = Buffer.from(text);
  return {
    name: 'notes.txt',
    kind: 'file',
    mode,
    uid: 0,
    gid: 0,
    size: data.length,
    mtimeNs: 1_700_000_000_000_000_000n,
    id: hashBytes(data),
  };
}

/** What an edit/edit (or add/add) sync leaves: server at P on both sides, local as V in A. */
async function contentConflict(w: World, kind: ConflictKind = 'edit/edit'): Promise<Conflict> {
  await writeFile(full(w.a, P), texts.server);
  await writeFile(full(w.b, P), texts.server);
  await writeFile(full(w.a, V), texts.local);
  const server = (await entryAt(w.b, P))!;
  w.base.entries.set(P, server);
  w.base.blobs.set(hashBytes(Buffer.from(texts.base)), Buffer.from(texts.base));
  const c: Conflict = {
    path: P,
    kind,
    base: kind === 'add/add' ? null : fileEntry(texts.base),
    local: fileEntry(texts.local),
    server,
    fields: ['content'],
    variantPath: V,
    informational: false,
    message: 'both sides changed the content',
  };
  await w.conflicts.put(c);
  return c;
}

async function text(root: string, path: Path): Promise<string | null> {
  try {
    return await readFile(full(root, path), 'utf8');
  } catch {
    return null;
  }
}

async function exists(root: string, path: Path): Promise<boolean> {
  return (await entryAt(root, path)) !== null;
}

interface Case {
  readonly name: string;
  readonly kind?: ConflictKind;
  readonly take: Take;
  /** Content at P afterwards on both sides (null: absent). */
  readonly canonical: string | null;
  /** Whether the variant file is in A and in B afterwards. */
  readonly variantIn: { a: boolean; b: boolean };
}

const cases: Case[] = [
  {
    name: 'server keeps the canonical file, drops the variant',
    take: 'server',
    canonical: texts.server,
    variantIn: { a: false, b: false },
  },
  {
    name: 'local puts the variant at the path on both sides',
    take: 'local',
    canonical: texts.local,
    variantIn: { a: false, b: false },
  },
  {
    name: 'base restores the base content from the store',
    take: 'base',
    canonical: texts.base,
    variantIn: { a: false, b: false },
  },
  {
    name: 'both uploads the variant under its name',
    take: 'both',
    canonical: texts.server,
    variantIn: { a: true, b: true },
  },
  {
    name: 'base of an add/add removes the path on both sides',
    kind: 'add/add',
    take: 'base',
    canonical: null,
    variantIn: { a: false, b: false },
  },
];

for (const c of cases) {
  test(`resolve --take ${c.take}: ${c.name}`, async (t) => {
    await withWorld(t, async (w) => {
      const conflict = await contentConflict(w, c.kind);
      const resolved = await resolveConflict(w.env, P, c.take);
      t.is(await text(w.a, P), c.canonical);
      t.is(await text(w.b, P), c.canonical);
      t.is(await exists(w.a, V), c.variantIn.a);
      t.is(await exists(w.b, V), c.variantIn.b);
      if (c.variantIn.b) t.is(await text(w.b, V), texts.local);
      // Base advanced to what both sides hold now.
      const now = await entryAt(w.a, P);
      t.is(w.base.entryAt(P)?.id, now?.id);
      if (c.take === 'both') t.is(w.base.entryAt(V)?.id, hashBytes(Buffer.from(texts.local)));
      // The record moved to the history.
      t.deepEqual(w.conflicts.list(), []);
      const h = w.conflicts.history();
      t.is(h.length, 1);
      t.deepEqual(h[0]!.conflict, conflict);
      t.is(h[0]!.resolution, c.take);
      t.is(h[0]!.at, Date.parse('2026-03-04T05:06:07Z'));
      t.is(resolved.result?.id, now?.id);
      // No temp files left behind.
      for (const root of [w.a, w.b]) {
        t.false((await readdir(join(root, 'd'))).some((n) => n.startsWith('.tether-')));
      }
    });
  });
}

test('take local keeps the mode of the local version, on both sides', async (t) => {
  await withWorld(t, async (w) => {
    await contentConflict(w);
    await chmod(full(w.a, V), 0o750);
    // The variant's entry changed (mode), not its content: local takes it as it is now.
    await resolveConflict(w.env, P, 'local');
    t.is((await stat(full(w.a, P))).mode & 0o7777, 0o750);
    t.is((await stat(full(w.b, P))).mode & 0o7777, 0o750);
  });
});

test('a path without a conflict is refused, listing the conflicted paths', async (t) => {
  await withWorld(t, async (w) => {
    await contentConflict(w);
    const err = await t.throwsAsync(resolveConflict(w.env, fromText('d/other'), 'local'));
    t.true(isTetherError(err, 'ENOTFOUND'));
    t.is(err.message, 'no conflict is recorded at d/other; conflicted paths: d/notes.txt');
  });
});

test('check before overwrite: a server file changed since the sync is not touched', async (t) => {
  await withWorld(t, async (w) => {
    await contentConflict(w);
    await writeFile(full(w.b, P), 'someone else wrote this\n');
    for (const take of ['local', 'base'] as const) {
      const err = await t.throwsAsync(resolveConflict(w.env, P, take));
      t.true(isTetherError(err, 'ECHANGED'), take);
      t.regex(err.message, /changed in the server replica since the last sync/);
    }
    t.is(await text(w.b, P), 'someone else wrote this\n');
    t.is(await text(w.a, P), texts.server);
    t.is(await text(w.a, V), texts.local);
    t.is(w.conflicts.list().length, 1);
    t.is(w.conflicts.history().length, 0);
  });
});

test('an edited variant is taken as it is by local and never deleted by server', async (t) => {
  await withWorld(t, async (w) => {
    await contentConflict(w);
    await writeFile(full(w.a, V), 'hand-merged\n');
    const err = await t.throwsAsync(resolveConflict(w.env, P, 'server'));
    t.true(isTetherError(err, 'ECHANGED'));
    t.is(await text(w.a, V), 'hand-merged\n');
    await resolveConflict(w.env, P, 'local');
    t.is(await text(w.a, P), 'hand-merged\n');
    t.is(await text(w.b, P), 'hand-merged\n');
    t.false(await exists(w.a, V));
  });
});

test('a resolve cut short after writing one side finishes when run again', async (t) => {
  await withWorld(t, async (w) => {
    await contentConflict(w);
    // As if the first run died after replacing the server's file.
    await writeFile(full(w.b, P), texts.local);
    await resolveConflict(w.env, P, 'local');
    t.is(await text(w.a, P), texts.local);
    t.is(await text(w.b, P), texts.local);
    t.is(w.conflicts.list().length, 0);
  });
});

test('both refuses to overwrite a different file of the variant name in the server replica', async (t) => {
  await withWorld(t, async (w) => {
    await contentConflict(w);
    await writeFile(full(w.b, V), 'unrelated\n');
    const err = await t.throwsAsync(resolveConflict(w.env, P, 'both'));
    t.true(isTetherError(err, 'ECHANGED'));
    t.is(await text(w.b, V), 'unrelated\n');
    t.is(w.conflicts.list().length, 1);
  });
});

test('modify/delete: server deletes the surviving edit on both sides; local keeps it', async (t) => {
  for (const [take, expected] of [
    ['server', null],
    ['local', texts.local],
  ] as const) {
    await withWorld(t, async (w) => {
      await writeFile(full(w.a, P), texts.local);
      await writeFile(full(w.b, P), texts.local);
      const local = (await entryAt(w.a, P))!;
      w.base.entries.set(P, local);
      await w.conflicts.put({
        path: P,
        kind: 'modify/delete',
        base: fileEntry(texts.base),
        local,
        server: null,
        fields: [],
        informational: true,
        message: 'modified locally, deleted on the server: the edit was kept',
      });
      await resolveConflict(w.env, P, take);
      t.is(await text(w.a, P), expected, take);
      t.is(await text(w.b, P), expected, take);
      t.is(w.base.entryAt(P)?.id, expected === null ? undefined : local.id);
      t.is(w.conflicts.history()[0]?.resolution, take);
    });
  }
});

test('metadata conflict: local applies the local mode on both sides; both is refused', async (t) => {
  await withWorld(t, async (w) => {
    for (const root of [w.a, w.b]) {
      await writeFile(full(root, P), texts.base);
      await chmod(full(root, P), 0o600);
    }
    const server = (await entryAt(w.b, P))!;
    w.base.entries.set(P, server);
    await w.conflicts.put({
      path: P,
      kind: 'metadata',
      base: { ...server, mode: 0o644 },
      local: { ...server, mode: 0o755 },
      server,
      fields: ['mode'],
      informational: false,
      message: 'mode changed on both sides',
    });
    const err = await t.throwsAsync(resolveConflict(w.env, P, 'both'));
    t.true(isTetherError(err, 'EUSAGE'));
    await resolveConflict(w.env, P, 'local');
    t.is((await stat(full(w.a, P))).mode & 0o7777, 0o755);
    t.is((await stat(full(w.b, P))).mode & 0o7777, 0o755);
    t.is(w.base.entryAt(P)?.mode, 0o755);
  });
});

test('names that are not UTF-8 are resolved byte for byte', async (t) => {
  await withWorld(t, async (w) => {
    const p = 'd/caf\xe9';
    const v = 'd/caf\xe9.conflict-local-20260304T050607Z-abcdef01';
    await writeFile(full(w.a, p), texts.server);
    await writeFile(full(w.b, p), texts.server);
    await writeFile(full(w.a, v), texts.local);
    const server = (await entryAt(w.b, p))!;
    w.base.entries.set(p, server);
    await w.conflicts.put({
      path: p,
      kind: 'edit/edit',
      base: null,
      local: { ...fileEntry(texts.local), name: 'caf\xe9' },
      server,
      fields: ['content'],
      variantPath: v,
      informational: false,
      message: 'both changed',
    });
    await resolveConflict(w.env, p, 'both');
    t.is(await text(w.b, v), texts.local);
    const names = await readdir(Buffer.from(join(w.b, 'd')), { encoding: 'buffer' });
    t.true(names.some((n) => n.equals(Buffer.from('caf\xe9', 'latin1'))));
  });
});

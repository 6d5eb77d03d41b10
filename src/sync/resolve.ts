// `tether resolve PATH --take local|server|base|both` on a two-replica (sync-dirs) store: the
// user's decision on one conflict, carried out on both replicas, then recorded.
//
// After a sync, a conflicted path holds the same entry on both replicas — the one base now
// has (the server's version, or the surviving edit of a modify/delete) — and the local
// version lives as a sibling variant file in the local replica (or, for metadata, in the
// record). Resolving:
//   local   the local version becomes the canonical entry on both sides; the variant goes
//   server  the canonical entry stays (or goes, if the server deleted it); the variant goes
//   base    the base version (content from the store) is restored on both sides; the variant goes
//   both    the variant becomes a real file on both sides (uploaded under its variant name)
// Check before overwrite (MERGE.md invariant 9): each replica's entry at the path must still
// be what base says, or already the chosen result (so a resolve cut short can be run again);
// every write goes through Replica, which re-checks and writes temp → rename. A variant that
// was edited since is taken as it is now by `local` and `both`, and never deleted by `server`
// or `base`. Base advances for the path afterwards, and the record moves to the history.
// Directory versions are not moved by resolve yet (`server` and `both` work for them).
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve as resolvePath } from 'node:path';
import { TetherError } from '../errors.js';
import type { Conflict, Path } from '../merge/plan.js';
import {
  bytesOf,
  display,
  fromText,
  type Entry,
  type Field,
  type Hash,
  type TreeReader,
} from '../tree/index.js';
import { ConflictStore, type ResolvedConflict } from './conflict-store.js';
import { advanceBaseAt, readBinding } from './binding.js';
import { REF_BASE } from './ports.js';
import { fsPath, hashFile } from './fs-entry.js';
import { Replica, TEMP_PREFIX, type Outcome } from './replica.js';
import { timeArg } from './stamp.js';

export type Take = 'local' | 'server' | 'base' | 'both';
export const TAKES: readonly Take[] = ['local', 'server', 'base', 'both'];

/** The sync base, as resolve needs it. */
export interface SyncBase {
  /** The base entry at `path` (what both replicas held there after the last sync). */
  entryAt(path: Path): Entry | undefined;
  /** Content of a blob kept in the store; throws when the store does not have it. */
  readBlob(id: Hash): Promise<Buffer>;
  /** Set base at each path to the entry (null: the path leaves base). */
  advance(updates: readonly { path: Path; entry: Entry | null }[]): Promise<void>;
}

export interface ResolveEnv {
  readonly conflicts: ConflictStore;
  readonly base: SyncBase;
  /** Root of the local replica (A) and of the server replica (B). */
  readonly localRoot: string;
  readonly serverRoot: string;
  readonly now: () => Date;
}

/** Where the chosen version's bytes come from. */
type Source =
  | { readonly from: 'replica'; readonly path: Path } // the local replica (the variant file)
  | { readonly from: 'store'; readonly data: Buffer } // a blob kept in the store
  | { readonly from: 'none' }; // nothing to copy: absent, or the same content as now

export async function resolveConflict(
  env: ResolveEnv,
  path: Path,
  take: Take,
): Promise<ResolvedConflict> {
  const c = env.conflicts.get(path);
  if (c === undefined) throw noConflict(env, path);
  const local = new Replica(env.localRoot, 'local replica');
  const server = new Replica(env.serverRoot, 'server replica');
  const current = env.base.entryAt(path) ?? null;
  const vpath = c.variantPath;
  const variant = vpath === undefined ? null : await hashedEntry(local, vpath);

  if (take === 'both') {
    if (vpath === undefined || variant === null) {
      throw new TetherError(
        'EUSAGE',
        `${display(path)} has no variant file to keep (${c.kind} conflict): ` +
          `take local, server or base instead`,
        { path: display(path) },
      );
    }
    supported(c, variant, 'keep on both sides');
    await check(server.put(vpath, null, variant, local, vpath), vpath);
    await env.base.advance([{ path: vpath, entry: await hashedEntry(local, vpath) }]);
    return env.conflicts.resolve(path, {
      resolution: 'both',
      at: env.now().getTime(),
      result: current,
      keptPath: vpath,
    });
  }

  if (take !== 'local' && variant !== null && !sameContent(variant, c.local)) {
    throw new TetherError(
      'ECHANGED',
      `the local variant ${display(vpath!)} was changed since the conflict was recorded, ` +
        `and taking the ${take} version would delete it: take local (or both) to keep it, ` +
        `or move it away first`,
      { path: display(path), variant: display(vpath!) },
    );
  }
  const { want, source } = await chosen(env, c, take, current, variant);
  for (const r of [server, local]) await place(r, path, current, want, source, local);
  if (vpath !== undefined && variant !== null) {
    await rm(local.abs(vpath), { recursive: true, force: true });
  }
  const result = await hashedEntry(local, path);
  await env.base.advance([{ path, entry: result }]);
  return env.conflicts.resolve(path, { resolution: take, at: env.now().getTime(), result });
}

/** The entry `take` chooses, and where its content comes from. */
async function chosen(
  env: ResolveEnv,
  c: Conflict,
  take: 'local' | 'server' | 'base',
  current: Entry | null,
  variant: Entry | null,
): Promise<{ want: Entry | null; source: Source }> {
  if (take === 'local' && c.variantPath !== undefined) {
    if (variant === null) {
      throw new TetherError(
        'ENOTFOUND',
        `the local variant ${display(c.variantPath)} of ${display(c.path)} is gone: ` +
          `take server or base, or put the file back`,
        { path: display(c.path) },
      );
    }
    supported(c, variant, 'take');
    return {
      want: { ...variant, name: baseName(c.path) },
      source: { from: 'replica', path: c.variantPath },
    };
  }
  const side = take === 'local' ? c.local : take === 'server' ? c.server : c.base;
  if (side === null) {
    if (current !== null) supported(c, current, 'remove');
    return { want: null, source: { from: 'none' } };
  }
  const want = { ...side, name: baseName(c.path) };
  if (current !== null && sameContent(current, want)) return { want, source: { from: 'none' } };
  supported(c, want, 'take');
  if (want.kind === 'symlink') return { want, source: { from: 'none' } };
  if (want.id === undefined) throw notKept(c, take);
  try {
    return { want, source: { from: 'store', data: await env.base.readBlob(want.id) } };
  } catch {
    throw notKept(c, take);
  }
}

/** Make `path` in replica `r` hold `want`, expecting `current` there (or `want` already). */
async function place(
  r: Replica,
  path: Path,
  current: Entry | null,
  want: Entry | null,
  source: Source,
  local: Replica,
): Promise<void> {
  if (await done(r, path, current, want)) return;
  if (want === null) {
    await check(r.delete(path, current!), path);
    return;
  }
  switch (source.from) {
    case 'replica':
      await check(r.put(path, current, want, local, source.path), path);
      return;
    case 'store':
      await writeAt(r, path, want, source.data);
      return;
    case 'none':
      if (want.kind === 'symlink' && !sameContent(current!, want)) {
        await writeAt(r, path, want, null);
        return;
      }
      {
        const fields = metaFields(current!, want);
        if (fields.length > 0) await check(r.setmeta(path, current!, want, fields), path);
      }
      return;
  }
}

/**
 * True when `path` already holds `want` (a re-run); false when it holds `current`, so the
 * change can be made; throws when it holds anything else (check before overwrite).
 */
async function done(
  r: Replica,
  path: Path,
  current: Entry | null,
  want: Entry | null,
): Promise<boolean> {
  const have = await hashedEntry(r, path);
  if (
    want === null
      ? have === null
      : have !== null && sameContent(have, want) && have.mode === want.mode
  )
    return true;
  if (await r.matches(path, current)) return false;
  throw new TetherError(
    'ECHANGED',
    `${display(path)} changed in the ${r.label} since the last sync, so resolve did not ` +
      `overwrite it: run tether sync-dirs again, then resolve`,
    { path: display(path), replica: r.label },
  );
}

/** Write a file (bytes) or symlink (data null) at `path`: temp, then rename over it. */
async function writeAt(r: Replica, path: Path, want: Entry, data: Buffer | null): Promise<void> {
  const dir = path.lastIndexOf('/') < 0 ? '' : path.slice(0, path.lastIndexOf('/') + 1);
  const tmp = r.abs(`${dir}${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  try {
    if (data === null) await symlink(bytesOf(want.target ?? ''), tmp);
    else {
      await writeFile(tmp, data, { flag: 'wx', mode: 0o600 });
      await chmod(tmp, want.mode);
      const t = timeArg(want.mtimeNs);
      await utimes(tmp, t, t);
    }
    await rename(tmp, r.abs(path));
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Turn a replica's problem into an error that says what to do. */
async function check(outcome: Promise<Outcome>, path: Path): Promise<void> {
  const o = await outcome;
  if (o.ok) return;
  throw new TetherError(
    'ECHANGED',
    `${o.reason} (resolve did not overwrite it: run tether sync-dirs again, then resolve ${display(path)})`,
    { path: display(path) },
  );
}

/** Metadata fields resolve carries over when the content stays. */
function metaFields(a: Entry, b: Entry): Field[] {
  const out: Field[] = [];
  if (a.mode !== b.mode && b.kind !== 'symlink') out.push('mode');
  return out;
}

function supported(c: Conflict, e: Entry, what: string): void {
  if (e.kind === 'file' || e.kind === 'symlink') return;
  throw new TetherError(
    'EUSAGE',
    `${display(c.path)}: resolve cannot ${what} a ${e.kind} yet; ` +
      `take server (or both), or move it into place by hand and sync again`,
    { path: display(c.path) },
  );
}

function noConflict(env: ResolveEnv, path: Path): TetherError {
  const open = env.conflicts.list().map((c) => display(c.path));
  return new TetherError(
    'ENOTFOUND',
    `no conflict is recorded at ${display(path)}; ` +
      (open.length === 0 ? 'there are no conflicts' : `conflicted paths: ${open.join(', ')}`),
    { path: display(path), conflicts: open },
  );
}

function notKept(c: Conflict, take: string): TetherError {
  return new TetherError(
    'ENOTFOUND',
    `the ${take} version of ${display(c.path)} is not kept in the store, so it cannot be restored`,
    { path: display(c.path) },
  );
}

/** Same content: ids when both are known, else size and mtime (a stamp). */
function sameContent(a: Entry, b: Entry | null): boolean {
  if (b === null || a.kind !== b.kind) return false;
  if (a.kind === 'dir') return a.id === b.id;
  if (a.size !== b.size || a.target !== b.target) return false;
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  return a.mtimeNs === b.mtimeNs;
}

function baseName(path: Path): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A replica path as bytes (names need not be UTF-8). */
export function full(root: string, path: Path): Buffer {
  return fsPath(Buffer.from(root), path);
}

/** The entry at `path` in a replica, a file's content hashed; null when nothing is there. */
export async function hashedEntry(r: Replica, path: Path): Promise<Entry | null> {
  const e = await r.entry(path);
  if (e === undefined) return null;
  return e.kind === 'file' ? { ...e, id: await hashFile(r.abs(path)) } : e;
}

/** hashedEntry in the replica rooted at `root`. */
export async function entryAt(root: string, path: Path): Promise<Entry | null> {
  return hashedEntry(new Replica(root, root), path);
}

/** The bytes of one version of a conflicted path, for `tether show` (symlinks: the target). */
export async function versionContent(
  env: ResolveEnv,
  path: Path,
  which: 'local' | 'server' | 'base',
): Promise<{ data: Buffer; note?: string }> {
  const c = env.conflicts.get(path);
  if (c === undefined) throw noConflict(env, path);
  const want = which === 'local' ? c.local : which === 'server' ? c.server : c.base;
  if (want === null) {
    throw new TetherError(
      'ENOTFOUND',
      `${display(path)} has no ${which} version: ${which === 'base' ? 'it was added on both sides' : `it was deleted on the ${which} side`}`,
      { path: display(path) },
    );
  }
  if (want.kind === 'symlink') return { data: bytesOf(want.target ?? '') };
  if (want.kind !== 'file') {
    throw new TetherError(
      'EUSAGE',
      `the ${which} version of ${display(path)} is a ${want.kind}, not a file`,
      {
        path: display(path),
      },
    );
  }
  // Where the bytes live: the local variant file (or the local replica when the local edit is
  // what both sides hold), the server replica, or the store.
  const places: [string, Path][] =
    which === 'local'
      ? [
          ...(c.variantPath === undefined
            ? []
            : [[env.localRoot, c.variantPath] as [string, Path]]),
          [env.localRoot, path],
        ]
      : which === 'server'
        ? [[env.serverRoot, path]]
        : [];
  for (const [root, p] of places) {
    const e = await entryAt(root, p);
    if (e?.kind === 'file' && sameContent(e, want)) return { data: await readFile(full(root, p)) };
  }
  if (want.id !== undefined) {
    try {
      return { data: await env.base.readBlob(want.id) };
    } catch {
      // fall through: not kept
    }
  }
  // The local variant may have been edited since: show it as it is now, and say so.
  const [root, p] = places[0] ?? ['', ''];
  if (root !== '' && (await entryAt(root, p))?.kind === 'file') {
    return {
      data: await readFile(full(root, p)),
      note: `${display(p)} changed since the conflict was recorded; this is its content now`,
    };
  }
  throw notKept(c, which);
}

/** A resolve environment over a sync-dirs store, open until `close`. */
export interface ResolveSession {
  readonly env: ResolveEnv;
  close(): Promise<void>;
}

/** Open the sync-dirs store in `storeDir` for conflicts, show and resolve. */
export async function openResolveSession(storeDir: string): Promise<ResolveSession> {
  const { Store } = await import('../store/store.js');
  const store = await Store.open(storeDir);
  try {
    const bound = readBinding(store);
    if (bound === undefined) {
      throw new TetherError(
        'ENOTFOUND',
        `the store ${storeDir} has no sync-dirs replicas: run "tether sync-dirs A B --store ${storeDir}" first`,
      );
    }
    const base: SyncBase = {
      entryAt(path) {
        const root = store.getRef(REF_BASE);
        return root === undefined ? undefined : entryInTree(store, root, path);
      },
      readBlob: (id) => store.readBlob(id),
      async advance(updates) {
        await advanceBaseAt(store, updates);
      },
    };
    return {
      env: {
        conflicts: new ConflictStore(store.db('conflicts')),
        base,
        localRoot: bound.local,
        serverRoot: bound.server,
        now: () => new Date(),
      },
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The entry at `path` under tree `root`, or undefined. */
function entryInTree(reader: TreeReader, root: Hash, path: Path): Entry | undefined {
  let tree = reader.readTree(root);
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const e = tree.find((x) => x.name === parts[i]);
    if (e === undefined) return undefined;
    if (i === parts.length - 1) return e;
    if (e.kind !== 'dir' || e.id === undefined) return undefined;
    tree = reader.readTree(e.id);
  }
  return undefined;
}

/**
 * The conflicted path a command-line PATH names: a path relative to the replicas' root, or a
 * path inside either replica (absolute, or relative to `cwd`), or the name of a local variant
 * file (which names its conflict). Unknown paths come back as given (resolve then says which
 * paths are in conflict).
 */
export function conflictPathOf(env: ResolveEnv, arg: string, cwd: string): Path {
  const candidates: Path[] = [];
  const plain = arg.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (!isAbsolute(arg)) candidates.push(fromText(plain));
  const abs = resolvePath(cwd, arg);
  for (const root of [env.localRoot, env.serverRoot]) {
    const rel = relative(resolvePath(root), abs);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) candidates.push(fromText(rel));
  }
  for (const p of candidates) if (env.conflicts.has(p)) return p;
  const byVariant = env.conflicts
    .list()
    .find((c) => c.variantPath !== undefined && candidates.includes(c.variantPath));
  return byVariant?.path ?? candidates[candidates.length - 1] ?? fromText(plain);
}

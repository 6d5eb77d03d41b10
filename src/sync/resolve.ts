// `tether resolve PATH --take local|server|base|both` on a two-replica (sync-dirs) store: the
// user's decision on one conflict, carried out on both replicas, then recorded.
//
// After a sync, a conflicted path holds the same entry on both replicas — the one base now
// has (the server's version, or the surviving edit of a modify/delete) — and the local
// version lives as a sibling variant (a file, or a directory with its subtree) in the local
// replica (or, for metadata, in the record). Resolving:
//   local   the local version becomes the canonical entry on both sides; the variant goes
//   server  the canonical entry stays (or goes, if the server deleted it); the variant goes
//   base    the base version (content from the store) is restored on both sides; the variant goes
//   both    the variant becomes a real entry on both sides (uploaded under its variant name)
// Check before overwrite (MERGE.md invariant 9): each replica's entry at the path must still
// be what base says, or already the chosen result (so a resolve cut short can be run again);
// a directory is compared entry by entry against its recorded tree. Every write goes through
// Replica, which re-checks and writes temp → fsync → rename. A variant that was edited since
// is taken as it is now by `local` and `both`, and never deleted by `server` or `base`. Base
// advances for the path afterwards (a directory with its tree id, its trees in the store), and
// the record moves to the history.
//
// A directory (or any entry replacing one, or replaced by one) cannot be swapped in with one
// rename, so it is staged: built under a temporary name beside the path (the local variant
// itself is renamed, not copied), the old entry renamed aside to a second temporary name, the
// new one renamed into place, the old one removed. Both names are fixed per path, so a run cut
// short anywhere is finished by running it again: "the path is missing and the old entry is
// aside" means the swap was under way.
import { readFile, readdir, rename } from 'node:fs/promises';
import { posix } from 'node:path';
import { TetherError } from '../errors.js';
import type { Conflict, Path } from '../merge/plan.js';
import {
  byteString,
  bytesOf,
  display,
  fromText,
  hashBytes,
  joinPath,
  sameContent,
  sortTree,
  xattrsEqual,
  type Entry,
  type Field,
  type Hash,
  type Tree,
  type TreeReader,
} from '../tree/index.js';
import { ConflictStore, type ResolvedConflict } from './conflict-store.js';
import { lookup } from '../merge/tree-edit.js';
import { advanceBaseAt, readBinding } from './binding.js';
import { REF_BASE, type SyncStore } from '../store/kv.js';
import { fsPath, hashFile } from '../scan/fs-entry.js';
import { argForms } from './path-arg.js';
import { releaseSyncLock, takeSyncLock } from './lock.js';
import { DirReplica } from '../replica/dir.js';
import type { Outcome } from '../replica/replica.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { readXattrs } from '../scan/xattrs.js';

export type Take = 'local' | 'server' | 'base' | 'both';
export const TAKES: readonly Take[] = ['local', 'server', 'base', 'both'];

/** The sync base, as resolve needs it: the base tree's entries, and the store's objects. */
export interface SyncBase extends TreeReader {
  /** The base entry at `path` (what both replicas held there after the last sync). */
  entryAt(path: Path): Entry | undefined;
  /** Content of a blob kept in the store; throws when the store does not have it. */
  readBlob(id: Hash): Promise<Buffer>;
  /** True when the store keeps the object (a blob or a tree). */
  has(id: Hash): boolean;
  /** Keep a directory listing in the store; returns its id. */
  putTree(tree: Tree): Hash;
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

/** Where the chosen version's content comes from. */
type Source =
  | { readonly from: 'replica'; readonly path: Path } // the local replica (the variant)
  // A file's blob kept in the store, or (data null) a symlink, whose target is in the entry.
  | { readonly from: 'store'; readonly data: Buffer | null }
  | { readonly from: 'tree' } // a directory rebuilt from the store: its trees and blobs
  | { readonly from: 'none' }; // nothing to copy: absent, or the same content as now

const isRoot = process.getuid?.() === 0;

/**
 * Resolve the conflict \`name\` names: its canonical path, or its variant's path (which tells
 * several conflicts at one path apart: see ConflictStore.get).
 */
export async function resolveConflict(
  env: ResolveEnv,
  name: Path,
  take: Take,
): Promise<ResolvedConflict> {
  const c = env.conflicts.get(name);
  if (c === undefined) throw noConflict(env, name);
  const path = c.path;
  const local = new DirReplica(env.localRoot, 'local replica');
  const server = new DirReplica(env.serverRoot, 'server replica');
  const current = env.base.entryAt(path) ?? null;
  const vpath = c.variantPath;
  const hasVariant = vpath !== undefined && (await local.entry(vpath)) !== undefined;

  if (take === 'both') {
    const variant = hasVariant ? await hashedEntry(local, vpath, env.base) : null;
    if (vpath === undefined || variant === null) {
      throw new TetherError(
        'EUSAGE',
        `${display(path)} has no variant to keep (${c.kind} conflict): ` +
          `take local, server or base instead`,
        { path: display(path) },
      );
    }
    supported(c, variant, 'keep on both sides');
    const source: Source = { from: 'replica', path: vpath };
    if (!(await done(server, vpath, null, variant, env.base))) {
      checkTree(c, 'local', variant, env.base, source);
      await place(server, vpath, null, variant, source, local, env.base);
    }
    await clearStaging(server, vpath);
    const kept = await hashedEntry(local, vpath, env.base);
    const resolved = await env.conflicts.resolve(c, {
      resolution: 'both',
      at: env.now().getTime(),
      result: current,
      keptPath: vpath,
    });
    await env.base.advance([{ path: vpath, entry: kept }]);
    return resolved;
  }

  if (take !== 'local' && hasVariant && !(await variantUnchanged(local, vpath, c, env.base))) {
    throw new TetherError(
      'ECHANGED',
      `the local variant ${display(vpath)} was changed since the conflict was recorded, ` +
        `and taking the ${take} version would delete it: take local (or both) to keep it, ` +
        `or move it away first`,
      { path: display(path), variant: display(vpath) },
    );
  }
  const { want, source } = await chosen(env, c, take, current, hasVariant, local, server);
  // Both replicas are checked before either is written: a path changed on one side stops the
  // resolve before anything moved.
  const pending: DirReplica[] = [];
  for (const r of [server, local]) {
    if (await done(r, path, current, want, env.base)) await clearStaging(r, path);
    else pending.push(r);
  }
  if (pending.length > 0 && want !== null) checkTree(c, take, want, env.base, source);
  for (const r of pending) await place(r, path, current, want, source, local, env.base);
  if (vpath !== undefined) {
    if (hasVariant) await removeAside(local, vpath);
    await clearStaging(local, vpath);
  }
  const result = await hashedEntry(local, path, env.base);
  // The record closes first: a run cut short before base moves leaves both replicas holding
  // the same new entry, which the next sync takes into base as a change made on both sides.
  const resolved = await env.conflicts.resolve(c, {
    resolution: take,
    at: env.now().getTime(),
    result,
  });
  await env.base.advance([{ path, entry: result }]);
  return resolved;
}

/** The entry `take` chooses, and where its content comes from. */
async function chosen(
  env: ResolveEnv,
  c: Conflict,
  take: 'local' | 'server' | 'base',
  current: Entry | null,
  hasVariant: boolean,
  local: DirReplica,
  server: DirReplica,
): Promise<{ want: Entry | null; source: Source }> {
  if (take === 'local' && c.variantPath !== undefined) {
    const variant = hasVariant ? await hashedEntry(local, c.variantPath, env.base) : null;
    if (variant === null) {
      // A resolve cut short after the variant was moved into place has both sides done.
      const placed = await placedEarlier(c, current, local, server, env.base);
      if (placed !== undefined) return { want: placed, source: { from: 'none' } };
      throw new TetherError(
        'ENOTFOUND',
        `the local variant ${display(c.variantPath)} of ${display(c.path)} is gone: ` +
          `take server or base, or put it back`,
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
  // A metadata conflict is decided field by field: the content at the path stays (rule F).
  const want =
    c.kind === 'metadata' && current !== null
      ? withFields(current, side, c.fields)
      : { ...side, name: baseName(c.path) };
  if (current !== null && sameContentAs(current, want)) return { want, source: { from: 'none' } };
  supported(c, want, 'take');
  if (want.kind === 'symlink') return { want, source: { from: 'store', data: null } };
  if (want.kind === 'dir') return { want, source: { from: 'tree' } }; // checked by checkTree
  if (take === 'server' && current !== null && (await holds(server, c.path, current, env.base))) {
    // The server's file changed again since the conflict, and a sync has taken its newer
    // version into base (and the local replica): that is the server's version now. (Decided
    // by what the server holds, not by whether the store happens to keep the older blob: a
    // local scan may have stored it.)
    supported(c, current, 'take');
    return { want: current, source: { from: 'none' } };
  }
  if (want.id === undefined) throw notKept(c, take);
  try {
    return { want, source: { from: 'store', data: await env.base.readBlob(want.id) } };
  } catch {
    throw notKept(c, take);
  }
}

/** `current` with the conflicted metadata fields taken from `side`. */
function withFields(current: Entry, side: Entry, fields: readonly Field[]): Entry {
  let out: Entry = current;
  for (const f of fields) {
    if (f === 'mode') out = { ...out, mode: side.mode };
    else if (f === 'uid' || f === 'gid') out = { ...out, uid: side.uid, gid: side.gid };
    else if (f === 'xattrs') {
      const { xattrs: _drop, ...rest } = out;
      out = side.xattrs === undefined ? rest : { ...rest, xattrs: side.xattrs };
    }
  }
  return out;
}

/**
 * The local version, when both replicas already hold it in place of `current` and the variant
 * is gone: what a `--take local` cut short after moving the variant leaves behind.
 */
async function placedEarlier(
  c: Conflict,
  current: Entry | null,
  local: DirReplica,
  server: DirReplica,
  trees: SyncBase,
): Promise<Entry | undefined> {
  const now = await hashedEntry(local, c.path, trees);
  if (now === null || (current !== null && (await holds(local, c.path, current, trees)))) {
    return undefined;
  }
  return (await holds(server, c.path, now, trees)) ? now : undefined;
}

/** True when the variant is still the local version the conflict recorded. */
async function variantUnchanged(
  local: DirReplica,
  vpath: Path,
  c: Conflict,
  trees: SyncBase,
): Promise<boolean> {
  const have = await local.entry(vpath);
  if (have === undefined || c.local === null || have.kind !== c.local.kind) return false;
  // The variant's own mode is not compared (as for a file): its content is what would be lost.
  if (have.kind === 'dir') return holds(local, vpath, { ...c.local, mode: have.mode }, trees);
  return sameContentAs((await hashedEntry(local, vpath))!, c.local);
}

/**
 * Make `path` in replica `r` hold `want`, where done() found `current` (or a swap cut short).
 * `local` is the local replica, where a `replica` source lives.
 */
async function place(
  r: DirReplica,
  path: Path,
  current: Entry | null,
  want: Entry | null,
  source: Source,
  local: DirReplica,
  trees: SyncBase,
): Promise<void> {
  if (want === null) {
    if (current!.kind !== 'dir') await check(r.delete(path, current!), path);
    else if ((await r.entry(path)) !== undefined) {
      // Checked again right before: the other replica was written in between.
      if (!(await holds(r, path, current!, trees))) throw changed(r, path, want);
      await removeAside(r, path);
    }
    return;
  }
  if (source.from !== 'none' && (want.kind === 'dir' || current?.kind === 'dir')) {
    await swapIn(r, path, current, want, source, local, trees);
    return;
  }
  switch (source.from) {
    case 'replica':
      await check(r.put(path, current, want, local, source.path), path);
      return;
    case 'store':
      await check(r.putData(path, current, want, source.data), path);
      return;
    case 'tree':
      throw new Error(`resolve: a directory of the store is always swapped in`);
    case 'none': {
      const fields = metaFields(current!, want);
      if (fields.length > 0) await check(r.setmeta(path, current!, want, fields), path);
      return;
    }
  }
}

/** The two temporary names beside `path` that a staged replacement uses (fixed per path). */
export function stagingOf(path: Path): { fresh: Path; old: Path } {
  const i = path.lastIndexOf('/');
  const dir = i < 0 ? '' : path.slice(0, i + 1);
  const tag = hashBytes(bytesOf(path)).slice(0, 16);
  return {
    fresh: `${dir}${TEMP_PREFIX}resolve-new-${tag}`,
    old: `${dir}${TEMP_PREFIX}resolve-old-${tag}`,
  };
}

/** Replace what is at `path` (`current`, or nothing after a swap cut short) by `want`. */
async function swapIn(
  r: DirReplica,
  path: Path,
  current: Entry | null,
  want: Entry,
  source: Source,
  local: DirReplica,
  trees: SyncBase,
): Promise<void> {
  const { fresh, old } = stagingOf(path);
  let incoming = fresh;
  if (r === local && source.from === 'replica') incoming = source.path;
  else {
    await r.removeAll(fresh);
    await build(r, fresh, want, source, local, trees);
  }
  // Checked again now that the new version is ready: staging a big directory takes a while.
  if ((await r.entry(path)) !== undefined) {
    if (current === null || !(await holds(r, path, current, trees))) throw changed(r, path, want);
    await r.removeAll(old);
    await rename(await r.reach(path), await r.reach(old));
  }
  await rename(await r.reach(incoming), await r.reach(path));
  await r.removeAll(old);
}

/** Write `want` at the free path `at` of `r`, from `source`. */
async function build(
  r: DirReplica,
  at: Path,
  want: Entry,
  source: Source,
  local: DirReplica,
  trees: SyncBase,
): Promise<void> {
  switch (source.from) {
    case 'replica': {
      const from = source.path;
      if (want.kind !== 'dir') {
        await check(r.put(at, null, want, local, from), at);
        return;
      }
      await buildDir(r, at, want, trees, (p, e, rel) =>
        r.put(p, null, e, local, joinPath(from, rel)),
      );
      return;
    }
    case 'store':
      await check(r.putData(at, null, want, source.data), at);
      return;
    case 'tree':
      await buildDir(r, at, want, trees, async (p, e) =>
        r.putData(p, null, e, e.kind === 'symlink' ? null : await trees.readBlob(e.id!)),
      );
      return;
    case 'none':
      throw new Error(`resolve: nothing to build at ${display(at)}`);
  }
}

/**
 * Build the directory `e` (its tree in the store) at the free path `at`: directories made
 * here (writable by their owner until their entries are in), each file or symlink written by
 * `leaf` (given its path below `e` too), then each directory's mode, owner and mtime set.
 */
async function buildDir(
  r: DirReplica,
  at: Path,
  e: Entry,
  trees: TreeReader,
  leaf: (at: Path, e: Entry, rel: Path) => Promise<Outcome>,
  rel: Path = '',
): Promise<void> {
  const open = { ...e, mode: e.mode | 0o700 };
  await check(r.mkdir(at, open), at);
  for (const kid of trees.readTree(e.id!)) {
    const p = joinPath(at, kid.name);
    const q = joinPath(rel, kid.name);
    if (kid.kind === 'dir') await buildDir(r, p, kid, trees, leaf, q);
    else await check(leaf(p, kid, q), p);
  }
  const fields: Field[] = isRoot ? ['mode', 'uid', 'mtime'] : ['mode', 'mtime'];
  await check(r.setmeta(at, open, e, fields), at);
}

/**
 * Before anything is written: a directory to be copied or rebuilt holds only what resolve
 * can write (files, symlinks, directories), and a rebuilt one has every tree and blob kept.
 */
function checkTree(c: Conflict, take: string, want: Entry, trees: SyncBase, source: Source): void {
  if (want.kind !== 'dir' || (source.from !== 'tree' && source.from !== 'replica')) return;
  const fromStore = source.from === 'tree';
  const walk = (e: Entry, at: Path): void => {
    if (e.kind === 'dir') {
      if (e.id === undefined || (fromStore && !trees.has(e.id))) throw notKept(c, take, at);
      for (const kid of trees.readTree(e.id)) walk(kid, joinPath(at, kid.name));
    } else if (e.kind === 'file') {
      if (fromStore && (e.id === undefined || !trees.has(e.id))) throw notKept(c, take, at);
    } else if (e.kind !== 'symlink') {
      throw new TetherError(
        'EUSAGE',
        `the ${take} version of ${display(c.path)} holds a ${e.kind} (${display(at)}), which ` +
          `resolve never copies: move it out of the directory, then resolve again`,
        { path: display(c.path), special: display(at) },
      );
    }
  };
  walk(want, c.path);
}

/** Remove `path` (and all below it): renamed aside first, so a removal cut short is done. */
async function removeAside(r: DirReplica, path: Path): Promise<void> {
  const { old } = stagingOf(path);
  await r.removeAll(old);
  if ((await r.entry(path)) === undefined) return;
  await rename(await r.reach(path), await r.reach(old));
  await r.removeAll(old);
}

/** Remove what a staged replacement left beside `path` (after it finished, or ran again). */
async function clearStaging(r: DirReplica, path: Path): Promise<void> {
  const { fresh, old } = stagingOf(path);
  for (const p of [fresh, old]) await r.removeAll(p);
}

/**
 * True when `path` already holds `want` (a re-run); false when it holds `current`, or nothing
 * while the old entry is aside (a swap cut short), so the change can be made; throws when it
 * holds anything else (check before overwrite).
 */
async function done(
  r: DirReplica,
  path: Path,
  current: Entry | null,
  want: Entry | null,
  trees: SyncBase,
): Promise<boolean> {
  const have = await r.entry(path);
  if (want === null ? have === undefined : await holdsVersion(r, path, want, trees)) return true;
  if (current === null ? have === undefined : await holds(r, path, current, trees)) return false;
  if (have === undefined && (await r.entry(stagingOf(path).old)) !== undefined) return false;
  throw changed(r, path, want);
}

function changed(r: DirReplica, path: Path, want: Entry | null): TetherError {
  return new TetherError(
    'ECHANGED',
    `${display(path)} changed in the ${r.label} since the last sync, so resolve did not ` +
      `${want === null ? 'delete' : 'overwrite'} it: run tether sync-dirs again, then resolve`,
    { path: display(path), replica: r.label },
  );
}

/**
 * \`want\` is at \`path\`, every field resolve sets: a file or symlink by its content, and the
 * fields place() carries over (metaFields: mode, owner where resolve may set it, xattrs); a
 * directory by holds() and the same fields on the directory itself. Content and mode alone
 * would call a metadata conflict (an xattr, an owner) done before anything was set.
 */
async function holdsVersion(
  r: DirReplica,
  path: Path,
  want: Entry,
  trees: SyncBase,
): Promise<boolean> {
  if (want.kind === 'dir') {
    if (!(await holds(r, path, want, trees))) return false;
    const xattrs = await readXattrs(await r.reach(path));
    const dir = await r.entry(path);
    return (
      dir !== undefined &&
      metaFields({ ...dir, ...(xattrs === undefined ? {} : { xattrs }) }, want).length === 0
    );
  }
  if ((await r.entry(path))?.kind !== want.kind) return false;
  const have = await hashedEntry(r, path, NO_TREES);
  return have !== null && sameContentAs(have, want) && metaFields(have, want).length === 0;
}

/** hashedEntry with xattrs, for a leaf (which puts no tree). */
const NO_TREES: TreeSink = {
  putTree: () => {
    throw new Error('resolve: a leaf has no tree');
  },
};

/**
 * True when `path` holds `e` as Replica.matches judges it (kind, mode, content by stamp or
 * hash) and, for a directory, holds exactly the entries of its recorded tree, each in turn.
 */
async function holds(r: DirReplica, path: Path, e: Entry, trees: TreeReader): Promise<boolean> {
  if (!(await r.matches(path, e))) return false;
  if (e.kind !== 'dir') return true;
  if (e.id === undefined) return false;
  const want = trees.readTree(e.id);
  const names = await namesIn(r, path);
  if (names.length !== want.length) return false;
  const have = new Set(names);
  for (const k of want) {
    if (!have.has(k.name) || !(await holds(r, joinPath(path, k.name), k, trees))) return false;
  }
  return true;
}

/** The names in a replica directory, leaving out temporary ones (as a scan does). */
async function namesIn(r: DirReplica, path: Path): Promise<string[]> {
  const raw = await readdir(await r.reach(path), { encoding: 'buffer' });
  return raw.map(byteString).filter((n) => !n.startsWith(TEMP_PREFIX));
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
  if (isRoot && (a.uid !== b.uid || a.gid !== b.gid)) out.push('uid');
  if ((b.kind === 'file' || b.kind === 'dir') && !xattrsEqual(a.xattrs, b.xattrs)) {
    out.push('xattrs');
  }
  return out;
}

/** Resolve moves files, symlinks and directories; special files are never copied. */
function supported(c: Conflict, e: Entry, what: string): void {
  if (e.kind === 'file' || e.kind === 'symlink' || e.kind === 'dir') return;
  throw new TetherError(
    'EUSAGE',
    `${display(c.path)}: resolve cannot ${what} a ${e.kind}, which is never copied; ` +
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

function notKept(c: Conflict, take: string, at?: Path): TetherError {
  const part = at === undefined || at === c.path ? '' : ` (${display(at)})`;
  return new TetherError(
    'ENOTFOUND',
    `the ${take} version of ${display(c.path)}${part} is not kept in the store, so it cannot be restored: ` +
      `take another version; or put the version you want at the path in both replicas, run ` +
      `sync-dirs, then take server`,
    { path: display(c.path) },
  );
}

/** Same kind and content (tree's rule; directories by their tree ids). */
function sameContentAs(a: Entry, b: Entry | null): boolean {
  if (b === null || a.kind !== b.kind) return false;
  return a.kind === 'dir' ? a.id === b.id : sameContent(a, b);
}

function baseName(path: Path): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A replica path as bytes (names need not be UTF-8). */
export function full(root: string, path: Path): Buffer {
  return fsPath(Buffer.from(root), path);
}

/** Where resolve keeps the listings of the directories it reads. */
export interface TreeSink {
  putTree(tree: Tree): Hash;
}

/**
 * The entry at `path` in a replica, a file's content hashed; null when nothing is there. With
 * `trees`, entries are read as a scan reads them (xattrs too) and a directory is read whole,
 * its listings kept in `trees`, so it carries its tree id.
 */
export async function hashedEntry(
  r: DirReplica,
  path: Path,
  trees?: TreeSink,
): Promise<Entry | null> {
  const e = await r.entry(path);
  if (e === undefined) return null;
  if (trees === undefined)
    return e.kind === 'file' ? { ...e, id: await hashFile(await r.reach(path)) } : e;
  const xattrs =
    e.kind === 'file' || e.kind === 'dir' ? await readXattrs(await r.reach(path)) : undefined;
  const read = xattrs === undefined ? e : { ...e, xattrs };
  if (e.kind === 'file') return { ...read, id: await hashFile(await r.reach(path)) };
  if (e.kind !== 'dir') return read;
  const kids: Entry[] = [];
  for (const name of await namesIn(r, path)) {
    const kid = await hashedEntry(r, joinPath(path, name), trees);
    if (kid !== null) kids.push(kid);
  }
  return { ...read, id: trees.putTree(sortTree(kids)) };
}

/** hashedEntry in the replica rooted at `root`. */
export async function entryAt(root: string, path: Path, trees?: TreeSink): Promise<Entry | null> {
  return hashedEntry(new DirReplica(root, root), path, trees);
}

/** The bytes of one version of a conflicted path, for `tether show` (symlinks: the target). */
export async function versionContent(
  env: ResolveEnv,
  name: Path,
  which: 'local' | 'server' | 'base',
): Promise<{ data: Buffer; note?: string }> {
  const c = env.conflicts.get(name);
  if (c === undefined) throw noConflict(env, name);
  const path = c.path;
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
    if (e?.kind === 'file' && sameContentAs(e, want))
      return { data: await readFile(full(root, p)) };
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
export async function openResolveSession(
  storeDir: string,
  opts: { lock?: boolean } = {},
): Promise<ResolveSession> {
  const { Store } = await import('../store/store.js');
  const store = await Store.open(storeDir);
  // Resolving writes both replicas: not while a sync-dirs (or another resolve) runs.
  let locked = false;
  try {
    if (opts.lock === true) {
      await takeSyncLock(store.dir, 'tether resolve');
      locked = true;
    }
    const env = resolveEnvOf(store, storeDir);
    return {
      env,
      close: async () => {
        if (locked) await releaseSyncLock(store.dir);
        await store.close();
      },
    };
  } catch (err) {
    if (locked) await releaseSyncLock(store.dir);
    await store.close();
    throw err;
  }
}

/** The resolve environment over an open sync store (a mount's daemon resolves in its own). */
export function resolveEnvOf(store: SyncStore, storeDir: string): ResolveEnv {
  const bound = readBinding(store);
  if (bound === undefined) {
    throw new TetherError(
      'ENOTFOUND',
      `the store ${storeDir} has no sync-dirs replicas: run "tether sync-dirs A B --store ${storeDir}" first`,
    );
  }
  const base: SyncBase = {
    readTree: (id) => store.readTree(id),
    putTree: (tree) => store.putTree(tree),
    has: (id) => store.has(id),
    entryAt(path) {
      const root = store.getRef(REF_BASE);
      return root === undefined ? undefined : lookup(store, root, path);
    },
    readBlob: (id) => store.readBlob(id),
    async advance(updates) {
      await advanceBaseAt(store, updates);
    },
  };
  return {
    conflicts: new ConflictStore(store.db('conflicts')),
    base,
    localRoot: bound.local,
    serverRoot: bound.server,
    now: () => new Date(),
  };
}

/** The entry at `path` under tree `root`, or undefined. */
export { lookup as entryInTree };

/**
 * The conflicted path a command-line PATH names: a path relative to the replicas' root, or a
 * path inside either replica (absolute, or relative to `cwd`), or the name of a local variant
 * file (which names its conflict). Unknown paths come back as given (resolve then says which
 * paths are in conflict).
 */
export function conflictPathOf(env: ResolveEnv, arg: string, cwd: string): Path {
  // Worked out on byte strings (one char per byte): path operations only look at '/' and '.',
  // so names that are not UTF-8 pass through them unchanged.
  const roots = [env.localRoot, env.serverRoot].map((r) => posix.resolve(fromText(r)));
  const here = fromText(cwd);
  let fallback: Path | undefined;
  for (const form of argForms(arg)) {
    const candidates: Path[] = [];
    if (!posix.isAbsolute(form)) candidates.push(form.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
    const abs = posix.resolve(here, form);
    for (const root of roots) {
      const rel = posix.relative(root, abs);
      if (rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel)) candidates.push(rel);
    }
    // A variant's path names its own conflict (several may be open at one path).
    for (const p of candidates) if (env.conflicts.has(p)) return p;
    fallback ??= candidates[candidates.length - 1];
  }
  return fallback ?? fromText(arg);
}

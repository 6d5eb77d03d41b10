// Resolve as a planner: what `--take` means for one conflict, as a list of steps for
// resolve-apply.ts, each carrying the state it expects to find. Nothing here writes.
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
// be what base says, or already the chosen result; a replica already holding the result gets
// no step but the clearing of staging leftovers. So a plan made after a run cut short between
// any two steps holds exactly the steps that run did not finish: the plan is not persisted,
// because the replicas themselves (and the fixed staging names, resolve-read.ts stagingOf)
// tell how far it got.
import { TetherError } from '../errors.js';
import type { Action, Conflict, Path, Side } from '../merge/plan.js';
import { display, joinPath, lastName, type Entry, type Field } from '../tree/index.js';
import type { DirReplica } from '../replica/dir.js';
import type { ResolveEnv, SyncBase, Take } from './resolve-env.js';
import {
  hashedEntry,
  holds,
  holdsVersion,
  metaFields,
  sameContentAs,
  stagingOf,
} from './resolve-read.js';
import { changed, notKept, supported } from './resolve-errors.js';

/** Where the chosen version's content comes from. */
export type Source =
  | { readonly from: 'replica'; readonly path: Path } // the local replica (the variant)
  // A file's blob kept in the store, or (data null) a symlink, whose target is in the entry.
  | { readonly from: 'store'; readonly data: Buffer | null }
  | { readonly from: 'tree' } // a directory rebuilt from the store: its trees and blobs
  | { readonly from: 'none' }; // nothing to copy: absent, or the same content as now

/** One step of a resolve; each names the replica it changes and what it expects there. */
export type ResolveStep =
  /** A plan action (put from the local replica, setmeta, delete), run by apply.ts. */
  | { readonly op: 'action'; readonly action: Action }
  /** Write a file (`data`) or symlink (`data` null) from the store over `expect`. */
  | {
      readonly op: 'write';
      readonly side: Side;
      readonly path: Path;
      readonly expect: Entry | null;
      readonly entry: Entry;
      readonly data: Buffer | null;
    }
  /**
   * Replace `expect` (a directory, or anything by a directory) by `entry` from `source`:
   * staged beside the path, the old entry renamed aside, the new one renamed in.
   */
  | {
      readonly op: 'swap';
      readonly side: Side;
      readonly path: Path;
      readonly expect: Entry | null;
      readonly entry: Entry;
      readonly source: Source;
    }
  /** Remove `path` and all below it, renamed aside first; what is there must be `expect`. */
  | { readonly op: 'remove'; readonly side: Side; readonly path: Path; readonly expect: Entry }
  /** Remove what a staged replacement left beside `path`. */
  | { readonly op: 'clear'; readonly side: Side; readonly path: Path };

export interface ResolvePlan {
  readonly steps: readonly ResolveStep[];
  /** Where base moves afterwards: the path, or for `both` the variant's path. */
  readonly at: Path;
  /** For `both`: the entry the record keeps as the result (the canonical one, unchanged). */
  readonly kept?: Entry | null;
}

export interface Sides {
  readonly local: DirReplica;
  readonly server: DirReplica;
}

/** The steps that carry out `take` on conflict `c`, given what the replicas hold now. */
export async function planResolve(
  env: ResolveEnv,
  c: Conflict,
  take: Take,
  r: Sides,
): Promise<ResolvePlan> {
  const path = c.path;
  const current = env.base.entryAt(path) ?? null;
  const vpath = c.variantPath;
  const hasVariant = vpath !== undefined && (await r.local.entry(vpath)) !== undefined;
  const steps: ResolveStep[] = [];

  if (take === 'both') {
    const variant = hasVariant ? await hashedEntry(r.local, vpath, env.base) : null;
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
    if (!(await done(r.server, vpath, null, variant, env.base))) {
      checkTree(c, 'local', variant, env.base, source);
      steps.push(...place('server', vpath, null, variant, source));
    }
    steps.push({ op: 'clear', side: 'server', path: vpath });
    return { steps, at: vpath, kept: current };
  }

  let variantNow: Entry | undefined;
  if (take !== 'local' && hasVariant) {
    variantNow = await variantUnchanged(r.local, vpath, c, env.base);
    if (variantNow === undefined) {
      throw new TetherError(
        'ECHANGED',
        `the local variant ${display(vpath)} was changed since the conflict was recorded, ` +
          `and taking the ${take} version would delete it: take local (or both) to keep it, ` +
          `or move it away first`,
        { path: display(path), variant: display(vpath) },
      );
    }
  }
  const { want, source } = await chosen(env, c, take, current, hasVariant, r);
  // Taking the local version moves or copies the variant as read just now.
  if (take === 'local' && want !== null && source.from === 'replica') variantNow = want;
  // Both replicas are checked before either is written: a path changed on one side stops the
  // resolve before anything moved.
  const pending: Side[] = [];
  for (const side of ['server', 'local'] as const) {
    if (await done(r[side], path, current, want, env.base)) {
      steps.push({ op: 'clear', side, path });
    } else pending.push(side);
  }
  if (pending.length > 0 && want !== null) checkTree(c, take, want, env.base, source);
  for (const side of pending) steps.push(...place(side, path, current, want, source));
  if (vpath !== undefined) {
    if (hasVariant && variantNow !== undefined) {
      steps.push({ op: 'remove', side: 'local', path: vpath, expect: variantNow });
    }
    steps.push({ op: 'clear', side: 'local', path: vpath });
  }
  return { steps, at: path };
}

/** The entry `take` chooses, and where its content comes from. */
async function chosen(
  env: ResolveEnv,
  c: Conflict,
  take: 'local' | 'server' | 'base',
  current: Entry | null,
  hasVariant: boolean,
  r: Sides,
): Promise<{ want: Entry | null; source: Source }> {
  if (take === 'local' && c.variantPath !== undefined) {
    const variant = hasVariant ? await hashedEntry(r.local, c.variantPath, env.base) : null;
    if (variant === null) {
      // A resolve cut short after the variant was moved into place has both sides done.
      const placed = await placedEarlier(c, current, r, env.base);
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
      want: { ...variant, name: lastName(c.path) },
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
      : { ...side, name: lastName(c.path) };
  if (current !== null && sameContentAs(current, want)) return { want, source: { from: 'none' } };
  supported(c, want, 'take');
  if (want.kind === 'symlink') return { want, source: { from: 'store', data: null } };
  if (want.kind === 'dir') return { want, source: { from: 'tree' } }; // checked by checkTree
  if (take === 'server' && current !== null && (await holds(r.server, c.path, current, env.base))) {
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
  r: Sides,
  trees: SyncBase,
): Promise<Entry | undefined> {
  const now = await hashedEntry(r.local, c.path, trees);
  if (now === null || (current !== null && (await holds(r.local, c.path, current, trees)))) {
    return undefined;
  }
  return (await holds(r.server, c.path, now, trees)) ? now : undefined;
}

/**
 * The variant as the conflict recorded it, when it still is that (its own mode aside, as for
 * a file: its content is what would be lost); undefined when it changed.
 */
async function variantUnchanged(
  local: DirReplica,
  vpath: Path,
  c: Conflict,
  trees: SyncBase,
): Promise<Entry | undefined> {
  const have = await local.entry(vpath);
  if (have === undefined || c.local === null || have.kind !== c.local.kind) return undefined;
  const expect = { ...c.local, mode: have.mode };
  if (have.kind === 'dir') return (await holds(local, vpath, expect, trees)) ? expect : undefined;
  const now = (await hashedEntry(local, vpath))!;
  return sameContentAs(now, c.local) ? now : undefined;
}

/** The steps that make `path` on `side` hold `want` where done() found `current`. */
function place(
  side: Side,
  path: Path,
  current: Entry | null,
  want: Entry | null,
  source: Source,
): ResolveStep[] {
  if (want === null) {
    if (current!.kind === 'dir') return [{ op: 'remove', side, path, expect: current! }];
    return [{ op: 'action', action: { op: 'delete', side, path, expect: current! } }];
  }
  if (source.from !== 'none' && (want.kind === 'dir' || current?.kind === 'dir')) {
    return [{ op: 'swap', side, path, expect: current, entry: want, source }];
  }
  switch (source.from) {
    case 'replica': {
      const put: Action = {
        op: 'put',
        side,
        path,
        expect: current,
        entry: want,
        from: 'local',
        fromPath: source.path,
      };
      return [{ op: 'action', action: put }];
    }
    case 'store':
      return [{ op: 'write', side, path, expect: current, entry: want, data: source.data }];
    case 'tree':
      throw new Error(`resolve: a directory of the store is always swapped in`);
    case 'none': {
      const fields = metaFields(current!, want);
      if (fields.length === 0) return [];
      return [
        {
          op: 'action',
          action: { op: 'setmeta', side, path, expect: current!, entry: want, fields },
        },
      ];
    }
  }
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
  throw changed(r.label, path, want);
}

// Carrying out a resolve plan (resolve-plan.ts), one step after another, each re-checking the
// state it expects right before it writes: plain actions through apply.ts's runAction (the
// replica's own guarded calls), and the steps only a resolve takes — a file written from the
// store, a staged swap, a removal renamed aside — here. The first step that finds its path
// changed stops the resolve with an error that says what to do; what ran before it is kept,
// and the next resolve plans only what is left.
import { rename } from 'node:fs/promises';
import { assertNever } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { display, joinPath, type Entry, type Field, type TreeReader } from '../tree/index.js';
import type { Outcome } from '../replica/replica.js';
import type { DirReplica } from '../replica/dir.js';
import { runAction } from './apply.js';
import type { SyncBase } from './resolve-env.js';
import type { ResolveStep, Sides, Source } from './resolve-plan.js';
import { holds, isRoot, stagingOf } from './resolve-read.js';
import { changed, check } from './resolve-errors.js';

export interface ResolveHooks {
  /** Called before step `i` runs (tests stop a resolve here, between two steps). */
  readonly beforeStep?: (i: number, step: ResolveStep) => Promise<void> | void;
}

export async function applyResolve(
  steps: readonly ResolveStep[],
  r: Sides,
  trees: SyncBase,
  hooks: ResolveHooks = {},
): Promise<void> {
  for (const [i, step] of steps.entries()) {
    await hooks.beforeStep?.(i, step);
    await runStep(step, r, trees);
  }
}

async function runStep(s: ResolveStep, r: Sides, trees: SyncBase): Promise<void> {
  switch (s.op) {
    case 'action':
      check(await runAction(s.action, r), s.action.path);
      return;
    case 'write':
      check(await r[s.side].putData(s.path, s.expect, s.entry, s.data), s.path);
      return;
    case 'swap':
      await swapIn(r[s.side], s.path, s.expect, s.entry, s.source, r.local, trees);
      return;
    case 'remove': {
      const target = r[s.side];
      // Checked right before: the other replica, or the variant, was written in between.
      if ((await target.entry(s.path)) !== undefined) {
        if (!(await holds(target, s.path, s.expect, trees))) {
          throw changed(target.label, s.path, null);
        }
      }
      await removeAside(target, s.path);
      return;
    }
    case 'clear':
      await clearStaging(r[s.side], s.path);
      return;
    default:
      assertNever(s, 'resolve step');
  }
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
    if (current === null || !(await holds(r, path, current, trees))) {
      throw changed(r.label, path, want);
    }
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
        check(await r.put(at, null, want, local, from), at);
        return;
      }
      await buildDir(r, at, want, trees, (p, e, rel) =>
        r.put(p, null, e, local, joinPath(from, rel)),
      );
      return;
    }
    case 'store':
      check(await r.putData(at, null, want, source.data), at);
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
  check(await r.mkdir(at, open), at);
  for (const kid of trees.readTree(e.id!)) {
    const p = joinPath(at, kid.name);
    const q = joinPath(rel, kid.name);
    if (kid.kind === 'dir') await buildDir(r, p, kid, trees, leaf, q);
    else check(await leaf(p, kid, q), p);
  }
  const fields: Field[] = isRoot ? ['mode', 'uid', 'mtime'] : ['mode', 'mtime'];
  check(await r.setmeta(at, open, e, fields), at);
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

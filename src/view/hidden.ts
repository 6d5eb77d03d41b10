// The hidden `.tether/` directory at a volume's root (as ZFS's `.zfs/snapshot`): read-only,
// `snapshots/NAME/…` for every snapshot in the volume's store and `variants/{local,server,
// base}/…` for the variant views, with no second mount. It is absent from the root's listing
// (find, git status and du never walk into it) but found by name. A `.tether` entry the
// server has is shadowed by it: `tether why` says ESHADOWED.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Operations } from '../fuse/operations.js';
import type { Path } from '../merge/plan.js';
import { errno } from '../fuse/errno.js';
import { listSnapshots, type SnapshotInfo } from '../store/snapshots.js';
import type { ByteString } from '../tree/index.js';
import { BranchSource, fixedBranch } from './branches.js';
import { createViewHandlers, type ViewHandlerOptions } from './handlers.js';
import { FOLLOW_MS, LiveRoot } from './live.js';
import type { ViewSource } from './node.js';
import {
  fingerprintOf,
  snapshotSource,
  variantSource,
  VARIANTS,
  type Variant,
  type VolumeSide,
} from './roots.js';
import type { TreeSource } from './tree-source.js';

export const HIDDEN_NAME = '.tether';
const AT = `/${HIDDEN_NAME}`;

/**
 * Everything here is kept by the kernel. The variants are followed (checked every FOLLOW_MS),
 * and what changed in them invalidated: the server and base variants change with the store's
 * refs and conflicts; the local variant also with every write to the local view, which the
 * volume's daemon invalidates from its journal (daemon/local-follow.ts). A snapshot's content
 * never changes while its name stands; the names are followed, and a name taken, removed or
 * taken again invalidated (its entry, and the listing of `snapshots`). A name taken again
 * shows other inodes (ViewNode.space), so nothing kept of the old snapshot is the new one's.
 */
const FOLLOWED: readonly Variant[] = VARIANTS;

/** Where the volume's mount shows the local variant (a tree path). */
export const LOCAL_IN_MOUNT = `${HIDDEN_NAME}/variants/local`;

/** Where the volume's mount shows the snapshots (a tree path). */
const SNAPSHOTS_IN_MOUNT = `${HIDDEN_NAME}/snapshots`;

/** Told of a followed variant's new root, and the one it replaces, at `under` in the volume. */
export type RootChanged = (under: Path, was: ViewSource, now: ViewSource) => void;

/** What one snapshot shows: its tree, and when it was taken (a name may be taken again). */
const snapshotKey = (s: SnapshotInfo): string => `${s.id}@${s.takenAt ?? ''}`;

/** A snapshot's source, every node of it numbered in its own `space`. */
function spaced(s: TreeSource, space: string): ViewSource & { readonly rootId: string } {
  return {
    rootId: s.rootId,
    lookup: async (path) => {
      const n = await s.lookup(path);
      return n === undefined ? undefined : { ...n, space };
    },
    list: (path) => s.list(path),
  };
}

export function hiddenSource(
  v: VolumeSide,
  changed?: RootChanged,
  invalidate?: (path: Path) => void,
): { source: ViewSource; follow: () => void } {
  const snaps = new Map<ByteString, ViewSource & { readonly rootId: string }>();
  const keysNow = (): Map<ByteString, string> =>
    new Map(listSnapshots(v.store).map((s) => [s.name, snapshotKey(s)]));
  let seen = keysNow();
  const snapshots = new BranchSource({
    names: () => listSnapshots(v.store).map((s) => s.name),
    open: (name) => {
      const id = v.store.getRef(`snap/${name}`);
      if (id === undefined) return undefined;
      let s = snaps.get(name);
      if (s?.rootId !== id) {
        const info = listSnapshots(v.store).find((x) => x.name === name);
        const key = info === undefined ? id : snapshotKey(info);
        snaps.set(name, (s = spaced(snapshotSource(v.store, name), key)));
      }
      return s;
    },
  });
  /** The names whose snapshot came, went or was taken again since last looked at. */
  const followSnapshots = (): void => {
    const now = keysNow();
    const changedNames = new Set<ByteString>();
    for (const [name, key] of now) if (seen.get(name) !== key) changedNames.add(name);
    for (const name of seen.keys()) if (!now.has(name)) changedNames.add(name);
    seen = now;
    for (const name of changedNames) {
      snaps.delete(name);
      invalidate?.(`${SNAPSHOTS_IN_MOUNT}/${name}`);
    }
  };
  const live = Object.fromEntries(
    VARIANTS.map((x) => [
      x,
      new LiveRoot(
        () => variantSource(v, x),
        () => fingerprintOf(v.store, x),
        FOLLOW_MS,
        Date.now,
        (was, now) => changed?.(`${HIDDEN_NAME}/variants/${x}`, was, now),
      ),
    ]),
  );
  const variants = new BranchSource(
    fixedBranch(Object.fromEntries(VARIANTS.map((x) => [x, () => live[x]!.get()]))),
  );
  return {
    source: new BranchSource(fixedBranch({ snapshots: () => snapshots, variants: () => variants })),
    follow: () => {
      followSnapshots();
      for (const x of FOLLOWED) live[x]!.get();
    },
  };
}

const inside = (p: string | null): boolean => p === AT || (p?.startsWith(`${AT}/`) ?? false);
const strip = (p: string): string => (p === AT ? '/' : p.slice(AT.length));

/** Operations whose path is not their first argument. */
const TWO_PATHS = new Set(['rename', 'link']);
/** Shortcuts a caller can do without (ENOSYS): the views need not offer them. */
const OPTIONAL = new Set(['readdirAttrs']);
/** Questions the binding asks of the whole table, not of a path: passed on as they are. */
const ASKED = new Set(['mayCreate', 'ownersHere']);

type Handler = (...args: unknown[]) => void;
type Table = Record<string, Handler | undefined>;

const answerEROFS = (args: unknown[]): void => {
  (args.findLast((a) => typeof a === 'function') as (e: number) => void)(errno('EROFS'));
};

/**
 * `volume`'s handler for `name`, with paths in `.tether/` sent to `view` instead (relative to
 * it). A rename or link across the boundary, or a symlink made in it, is a write: EROFS.
 */
function routed(name: string, volume: Handler, view: Handler | undefined, seen: () => void) {
  const at = name === 'symlink' ? 1 : 0;
  const two = TWO_PATHS.has(name);
  return (...args: unknown[]): void => {
    const hit = inside(args[at] as string | null) || (two && inside(args[1] as string | null));
    if (!hit) {
      volume(...args);
      return;
    }
    seen();
    if (view === undefined && OPTIONAL.has(name)) {
      (args.findLast((a) => typeof a === 'function') as (e: number) => void)(errno('ENOSYS'));
    } else if (view === undefined || two || name === 'symlink') answerEROFS(args);
    else view(...args.map((a, i) => (i === at ? strip(a as string) : a)));
  };
}

/** A readdir that leaves `.tether` out of the root's listing. */
function unlistedAtRoot(readdir: Handler): Handler {
  return (p: unknown, cb: unknown, ...rest: unknown[]) => {
    if (p !== '/') {
      readdir(p, cb, ...rest);
      return;
    }
    const done = cb as (err: number, names?: Buffer[]) => void;
    const unlisted = (err: number, names?: Buffer[]): void => {
      done(
        err,
        names?.filter((n) => n.toString('latin1') !== HIDDEN_NAME),
      );
    };
    readdir(p, unlisted, ...rest);
  };
}

/** readdirAttrs, with `.tether` left out of the root's listing (an empty name is skipped). */
function attrsUnlistedAtRoot(readdirAttrs: Handler): Handler {
  return (p: unknown, cb: unknown, ...rest: unknown[]) => {
    if (p !== '/') {
      readdirAttrs(p, cb, ...rest);
      return;
    }
    const done = cb as (err: number, l?: { names: Buffer[] }) => void;
    readdirAttrs(
      p,
      (err: number, l?: { names: Buffer[] }) => {
        if (l !== undefined) {
          for (let i = 0; i < l.names.length; i++) {
            if (l.names[i]!.toString('latin1') === HIDDEN_NAME) l.names[i] = Buffer.alloc(0);
          }
        }
        done(err, l);
      },
      ...rest,
    );
  };
}

/**
 * The volume's handlers with `.tether/` served by a read-only view of `v`. `shadowed` is
 * told when a path there is asked for while the local view has a `.tether` of its own.
 */
export function withHiddenTree(
  ops: Operations,
  v: VolumeSide & { readonly local: string },
  o: ViewHandlerOptions & {
    readonly shadowed?: () => void;
    readonly changed?: RootChanged;
    /** Told of a path of the volume's mount the kernel must forget (a snapshot's name). */
    readonly invalidate?: (path: Path) => void;
  },
): { ops: Operations; follow: () => void } {
  const { source, follow } = hiddenSource(v, o.changed, o.invalidate);
  const view = createViewHandlers(v.store, () => source, o) as Table;
  const real = join(v.local, HIDDEN_NAME);
  const seen = (): void => {
    if (existsSync(real)) o.shadowed?.();
  };
  const out: Table = { ...(ops as Table) };
  for (const [name, fn] of Object.entries(ops as Table)) {
    // mayCreate and ownersHere are no requests about a path: the volume's answer them.
    if (fn === undefined || name === 'init' || name === 'statfs' || ASKED.has(name)) continue;
    out[name] = routed(name, fn, view[name], seen);
  }
  if (out['readdir'] !== undefined) out['readdir'] = unlistedAtRoot(out['readdir']);
  if (out['readdirAttrs'] !== undefined)
    out['readdirAttrs'] = attrsUnlistedAtRoot(out['readdirAttrs']);
  return { ops: out, follow };
}

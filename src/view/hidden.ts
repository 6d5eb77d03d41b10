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
import { listSnapshots } from '../store/snapshots.js';
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

/** Whether a handler path lies in the hidden tree (its views change behind the volume). */
export const inHiddenTree = (p: string): boolean => p === AT || p.startsWith(`${AT}/`);

/**
 * The variants followed (checked every FOLLOW_MS), and what changed in them invalidated, so the
 * kernel may keep the rest: the server and base variants change with the store's refs and
 * conflicts; the local variant also with every write to the local view, which the volume's
 * daemon invalidates from its journal (daemon/local-follow.ts).
 */
const FOLLOWED: readonly Variant[] = VARIANTS;
const KEPT = new RegExp(`^${AT.replace('.', '\\.')}/variants/(${FOLLOWED.join('|')})(/|$)`);

/** Where the volume's mount shows the local variant (a tree path). */
export const LOCAL_IN_MOUNT = `${HIDDEN_NAME}/variants/local`;

/**
 * Whether the kernel must keep nothing of a handler path: the hidden tree, but for the
 * followed variants (snapshots come and go by name).
 */
export const volatileInHiddenTree = (p: string): boolean => inHiddenTree(p) && !KEPT.test(p);

/** Told of a followed variant's new root, and the one it replaces, at `under` in the volume. */
export type RootChanged = (under: Path, was: ViewSource, now: ViewSource) => void;

export function hiddenSource(
  v: VolumeSide,
  changed?: RootChanged,
): { source: ViewSource; follow: () => void } {
  const snaps = new Map<ByteString, TreeSource>();
  const snapshots = new BranchSource({
    names: () => listSnapshots(v.store).map((s) => s.name),
    open: (name) => {
      const id = v.store.getRef(`snap/${name}`);
      if (id === undefined) return undefined;
      let s = snaps.get(name);
      if (s?.rootId !== id) snaps.set(name, (s = snapshotSource(v.store, name)));
      return s;
    },
  });
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
  o: ViewHandlerOptions & { readonly shadowed?: () => void; readonly changed?: RootChanged },
): { ops: Operations; follow: () => void } {
  const { source, follow } = hiddenSource(v, o.changed);
  const view = createViewHandlers(v.store, () => source, o) as Table;
  const real = join(v.local, HIDDEN_NAME);
  const seen = (): void => {
    if (existsSync(real)) o.shadowed?.();
  };
  const out: Table = { ...(ops as Table) };
  for (const [name, fn] of Object.entries(ops as Table)) {
    // mayCreate is no request about a path: the volume's answers it.
    if (fn === undefined || name === 'init' || name === 'statfs' || name === 'mayCreate') continue;
    out[name] = routed(name, fn, view[name], seen);
  }
  if (out['readdir'] !== undefined) out['readdir'] = unlistedAtRoot(out['readdir']);
  if (out['readdirAttrs'] !== undefined)
    out['readdirAttrs'] = attrsUnlistedAtRoot(out['readdirAttrs']);
  return { ops: out, follow };
}

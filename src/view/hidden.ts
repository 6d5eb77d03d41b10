// The hidden `.tether/` directory at a volume's root (as ZFS's `.zfs/snapshot`): read-only,
// `snapshots/NAME/…` for every snapshot in the volume's store and `variants/{local,server,
// base}/…` for the variant views, with no second mount. It is absent from the root's listing
// (find, git status and du never walk into it) but found by name. A `.tether` entry the
// server has is shadowed by it: `tether why` says ESHADOWED.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Operations } from '../fuse/binding.js';
import { errno } from '../fuse/errno.js';
import { listSnapshots } from '../store/snapshots.js';
import type { ByteString } from '../tree/index.js';
import { BranchSource, fixedBranch } from './branches.js';
import { createViewHandlers, type ViewHandlerOptions } from './handlers.js';
import { LiveRoot } from './live.js';
import type { ViewSource } from './node.js';
import {
  fingerprintOf,
  snapshotSource,
  variantSource,
  VARIANTS,
  type VolumeSide,
} from './roots.js';
import type { TreeSource } from './tree-source.js';

export const HIDDEN_NAME = '.tether';
const AT = `/${HIDDEN_NAME}`;

export function hiddenSource(v: VolumeSide): ViewSource {
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
        () => fingerprintOf(v.store),
      ),
    ]),
  );
  const variants = new BranchSource(
    fixedBranch(Object.fromEntries(VARIANTS.map((x) => [x, () => live[x]!.get()]))),
  );
  return new BranchSource(fixedBranch({ snapshots: () => snapshots, variants: () => variants }));
}

const inside = (p: string | null): boolean => p === AT || (p?.startsWith(`${AT}/`) ?? false);
const strip = (p: string): string => (p === AT ? '/' : p.slice(AT.length));

/** Operations whose path is not their first argument. */
const TWO_PATHS = new Set(['rename', 'link']);

/**
 * The volume's handlers with `.tether/` served by a read-only view of `v`. `shadowed` is
 * told when a path there is asked for while the local view has a `.tether` of its own.
 */
export function withHiddenTree(
  ops: Operations,
  v: VolumeSide & { readonly local: string },
  o: ViewHandlerOptions & { readonly shadowed?: () => void },
): Operations {
  const hidden = createViewHandlers(v.store, () => source, o);
  const source = hiddenSource(v);
  const real = join(v.local, HIDDEN_NAME);
  const out: Record<string, unknown> = { ...ops };
  const table = ops as Record<string, ((...a: unknown[]) => void) | undefined>;
  const mine = hidden as Record<string, ((...a: unknown[]) => void) | undefined>;
  for (const [name, fn] of Object.entries(table)) {
    if (fn === undefined || name === 'init' || name === 'statfs') continue;
    out[name] = (...args: unknown[]): void => {
      const at = name === 'symlink' ? 1 : 0;
      const paths = TWO_PATHS.has(name) ? [args[0], args[1]] : [args[at]];
      if (!paths.some((p) => inside(p as string | null))) {
        fn(...args);
        return;
      }
      if (existsSync(real)) o.shadowed?.();
      const own = mine[name];
      if (own === undefined || TWO_PATHS.has(name) || name === 'symlink') {
        const cb = args.findLast((a) => typeof a === 'function') as (e: number) => void;
        cb(errno('EROFS'));
        return;
      }
      own(...args.map((a, i) => (i === at ? strip(a as string) : a)));
    };
  }
  const wrapped = out['readdir'] as (...a: unknown[]) => void;
  out['readdir'] = (p: string, cb: (err: number, names?: Buffer[]) => void, ...rest: unknown[]) => {
    if (p !== '/') {
      wrapped(p, cb, ...rest);
      return;
    }
    const unlisted = (err: number, names?: Buffer[]): void => {
      cb(
        err,
        names?.filter((n) => n.toString('latin1') !== HIDDEN_NAME),
      );
    };
    wrapped(p, unlisted, ...rest);
  };
  return out;
}

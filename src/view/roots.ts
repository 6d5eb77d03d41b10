// The roots a view can show, built from the store: a snapshot, and the volume as each side
// sees it (DESIGN decision 10), every conflicted path showing that side's entry under its
// canonical name and no variant names:
//   local  — the local view directory (base ⊕ overlay, offline changes included);
//   server — the last scan of the server (`sync/server`);
//   base   — the last synced tree (`sync/base`).
// A variant root is rebuilt when the volume's conflicts or trees change (fingerprintOf).
import { TetherError } from '../errors.js';
import type { Conflict, Path } from '../merge/plan.js';
import { fsPath, lstatOrNoneSync } from '../scan/fs-entry.js';
import { closeMtime } from '../scan/stamp.js';
import { REF_BASE, REF_SERVER } from '../store/kv.js';
import { listSnapshots } from '../store/snapshots.js';
import type { Store } from '../store/store.js';
import { ConflictStore } from '../sync/conflict-store.js';
import { EMPTY_TREE_ID, type Entry } from '../tree/index.js';
import { DirSource, type DirOverride } from './dir-source.js';
import type { Content, ViewSource } from './node.js';
import { TreeSource } from './tree-source.js';

export type Variant = 'local' | 'server' | 'base';
export const VARIANTS: readonly Variant[] = ['local', 'server', 'base'];

/** What a view needs of a volume: its store, and its local view directory. */
export interface VolumeSide {
  readonly store: Store;
  /** The local view directory (S/local); absent for a store that is no volume. */
  readonly local?: string;
  /** Whether the local view's file at `path` is a placeholder. */
  readonly placeholder?: (path: Path) => boolean;
}

export function snapshotSource(store: Store, name: string): TreeSource {
  const id = store.getRef(`snap/${name}`);
  if (id === undefined) {
    const names = listSnapshots(store).map((s) => s.name);
    throw new TetherError(
      'ENOTFOUND',
      `no snapshot named "${name}" in ${store.dir}` +
        (names.length === 0 ? ' (it has none)' : ` (it has: ${names.join(', ')})`),
      { name },
    );
  }
  const taken = Date.parse(listSnapshots(store).find((s) => s.name === name)?.takenAt ?? '');
  return new TreeSource(store, id, {
    what: `snapshot "${name}"`,
    ...(Number.isNaN(taken) ? {} : { rootMtimeNs: BigInt(taken) * 1_000_000n }),
  });
}

export function variantSource(v: VolumeSide, variant: Variant): ViewSource {
  if (v.local === undefined || v.store.getRef(REF_BASE) === undefined) {
    throw new TetherError(
      'EUSAGE',
      `the store ${v.store.dir} is not a volume's (it was never mounted): variant views are of volumes; mount a snapshot with --snapshot NAME`,
    );
  }
  const conflicts = new ConflictStore(v.store.db('conflicts')).list();
  if (variant === 'local') {
    return new DirSource(v.local, {
      overrides: localOverrides(conflicts),
      ...(v.placeholder === undefined ? {} : { placeholder: v.placeholder }),
    });
  }
  const ref = variant === 'server' ? REF_SERVER : REF_BASE;
  const overrides = new Map<Path, Entry | null>();
  for (const c of conflicts) overrides.set(c.path, variant === 'server' ? c.server : c.base);
  return new TreeSource(v.store, v.store.getRef(ref) ?? EMPTY_TREE_ID, {
    overrides,
    what: `the ${variant} tree`,
    fallback: sameFileIn(v, v.local),
  });
}

/**
 * The local side of each conflict: its variant under the canonical name (the canonical path
 * holds the server's entry, MERGE.md rule V), nothing where local deleted it, local's
 * attributes where only they conflict (rule F: no sibling, the record keeps them).
 */
function localOverrides(conflicts: readonly Conflict[]): Map<Path, DirOverride> {
  const out = new Map<Path, DirOverride>();
  for (const c of conflicts) {
    if (c.variantPath !== undefined) {
      out.set(c.variantPath, { as: 'hidden' });
      out.set(c.path, c.local === null ? { as: 'hidden' } : { as: 'moved', real: c.variantPath });
    } else if (c.local === null) out.set(c.path, { as: 'hidden' });
    else if (c.kind === 'metadata') out.set(c.path, { as: 'entry', entry: c.local });
  }
  return out;
}

/**
 * The local view's file at the same path, where it has this entry's stamp and is no
 * placeholder: an unchanged file whose bytes were fetched but never put in the store.
 */
function sameFileIn(
  v: VolumeSide,
  local: string,
): (path: Path, entry: Entry) => Content | undefined {
  const root = Buffer.from(local);
  return (path, entry) => {
    const abs = fsPath(root, path);
    const st = lstatOrNoneSync(abs);
    if (st === undefined || !st.isFile() || Number(st.size) !== entry.size) return undefined;
    if (!closeMtime(st.mtimeNs, entry.mtimeNs) || v.placeholder?.(path) === true) return undefined;
    return { from: 'file', abs };
  };
}

/**
 * What a variant root depends on: when this changes, the root is built again. The local
 * variant's root depends on the conflicts alone (its directory's changes are followed apart).
 */
export function fingerprintOf(store: Store, variant?: Variant): string {
  const conflicts = new ConflictStore(store.db('conflicts')).list();
  return JSON.stringify([
    variant === 'local' ? null : store.getRef(REF_BASE),
    variant === 'local' ? null : store.getRef(REF_SERVER),
    conflicts.map((c) => [c.path, c.variantPath, c.kind]),
  ]);
}

// What a volume's paths are, as `user.tether.state` and `tether status` show it: the local view
// (S/local) against base, with placeholders and conflicts told apart.
import { lstat } from 'node:fs/promises';
import { diffTrees } from '../merge/diff.js';
import type { Path } from '../merge/plan.js';
import { fsPath, hashFile } from '../scan/fs-entry.js';
import { HeldRecords, scanReplica } from '../scan/scan-replica.js';
import { closeMtime } from '../scan/stamp.js';
import { REF_BASE } from '../store/kv.js';
import type { Store } from '../store/store.js';
import type { ConflictStore } from '../sync/conflict-store.js';
import type { Entry, Hash } from '../tree/index.js';
import { cacheUse, type CacheUse } from './cache-use.js';
import type { Placeholders } from './placeholders.js';
import { placeholderHook } from './placeholder-scan.js';

export type PathState = 'cached' | 'partial' | 'remote-only' | 'dirty' | 'provisional' | 'conflict';

/** What the state of a path is read from. */
export interface StateSource {
  readonly store: Store;
  readonly local: string;
  readonly placeholders: Placeholders;
  readonly conflicts: ConflictStore;
  baseEntry(path: Path): Entry | undefined;
  /** A placeholder some of whose content has been fetched. */
  isPartial?(path: Path): boolean;
}

/** The content id of the local view's file at `path` (read), if it is a file. */
async function idOf(v: StateSource, path: Path): Promise<{ id?: string }> {
  const at = fsPath(Buffer.from(v.local), path);
  try {
    const st = await lstat(at);
    if (!st.isFile()) return {};
    return { id: await hashFile(at) };
  } catch {
    return {};
  }
}

export async function pathState(
  v: StateSource,
  path: Path,
): Promise<{ state: PathState; id?: string }> {
  if (v.placeholders.isNow(path)) {
    const b = v.baseEntry(path);
    const state = v.isPartial?.(path) === true ? 'partial' : 'remote-only';
    return b?.id === undefined ? { state } : { state, id: b.id };
  }
  if (v.conflicts.list().some((c) => c.path === path || c.variantPath === path)) {
    return { state: 'conflict', ...(await idOf(v, path)) };
  }
  const b = v.baseEntry(path);
  if (b === undefined) return { state: 'provisional', ...(await idOf(v, path)) };
  const st = await lstat(fsPath(Buffer.from(v.local), path), { bigint: true });
  const same =
    b.kind === 'dir'
      ? st.isDirectory()
      : b.kind === 'file' && st.isFile() && b.size === Number(st.size)
        ? closeMtime(b.mtimeNs, st.mtimeNs)
        : !st.isFile() && !st.isDirectory();
  if (!same) return { state: 'dirty', ...(await idOf(v, path)) };
  return b.id === undefined
    ? { state: 'cached', ...(await idOf(v, path)) }
    : { state: 'cached', id: b.id };
}

/** The local view against base, as the next sync's local scan will see it. */
export async function dirtyPaths(
  v: StateSource,
  base: Hash,
  variants: ReadonlySet<Path>,
): Promise<{ path: string; status: string }[]> {
  const localId = await scanReplica(v.store, v.local, {
    content: 'hash',
    base,
    exclude: variants,
    cache: v.store.cacheDb('sync-local'),
    hold: new HeldRecords(),
    placeholder: placeholderHook(v.store, v.placeholders),
  });
  return diffTrees(v.store, base, localId)
    .filter((c) => c.a?.kind !== 'dir' || c.b?.kind !== 'dir' || c.fields.length > 0)
    .filter((c) => !(c.status === 'M' && c.fields.every((f) => f === 'mtime')))
    .map((c) => ({ path: c.path, status: c.status }));
}

/** The paths part of `tether status`: what is dirty, provisional, remote-only, in conflict. */
export async function pathsStatus(
  v: StateSource,
  storeDir: string,
): Promise<{
  placeholders: number;
  provisional: number;
  cache: CacheUse;
  dirty: { path: string; status: string }[];
  conflicts: { path: string; kind: string; variant?: string }[];
}> {
  const base = v.store.getRef(REF_BASE);
  const conflicts = v.conflicts.list();
  const variants = new Set(conflicts.flatMap((c) => c.variantPath ?? []));
  const dirty = base === undefined ? [] : await dirtyPaths(v, base, variants);
  return {
    placeholders: [...v.placeholders.under('')].length,
    provisional: dirty.filter((d) => d.status === 'A').length,
    cache: await cacheUse(storeDir, v.local),
    dirty,
    conflicts: conflicts.map((c) => ({
      path: c.path,
      kind: c.kind,
      ...(c.variantPath === undefined ? {} : { variant: c.variantPath }),
    })),
  };
}

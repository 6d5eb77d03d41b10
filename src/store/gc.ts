// Garbage collection: mark every object reachable from a root, then sweep the rest.
//
// Roots: every ref (snapshots, base, local, server, scans), every id named by a record of the
// other layers (conflicts and their variants, persisted plans, a volume's records, snapshot
// labels), and whatever ids the caller passes in. Records are not decoded here (the store does
// not know their layouts, and a layout added later must not be missed): every id of a stored
// object that appears in a record's bytes, as 32 raw bytes or as 64 hex digits, is a root.
// Seeing an id where there is none only keeps an object; missing one would lose it, so the
// invariant is: when in doubt, reachable.
//
// Scan caches are not roots: they are derivable, and the sweep drops them first (a cache
// vouches for objects without looking, so it must not outlive one).
import { stat } from 'node:fs/promises';
import { isHash, type Hash, type Tree } from '../tree/index.js';
import type { Store } from './store.js';

export interface GcReport {
  /** Objects stored before the sweep. */
  readonly objects: number;
  /** Objects reachable from a root (kept). */
  readonly reachable: number;
  /** Objects freed (or that would be, with dryRun). */
  readonly freed: number;
  readonly freedBytes: number;
  readonly dryRun: boolean;
}

export interface GcOptions {
  readonly dryRun?: boolean;
  /** Ids held by layers above the store that keep no record in it. */
  readonly roots?: readonly Hash[];
}

/** Databases whose records are not roots: caches (derivable, dropped by the sweep). */
const NOT_ROOTS = new Set(['caches']);

interface Stored {
  readonly trees: Map<Hash, number>;
  readonly blobs: Map<Hash, number>;
  readonly files: Set<Hash>;
}

async function inventory(store: Store): Promise<Stored> {
  const trees = new Map<Hash, number>();
  const blobs = new Map<Hash, number>();
  for (const { id, bytes } of store.treeRecords()) trees.set(id, bytes.length);
  for (const { id, bytes } of store.blobRecords()) blobs.set(id, bytes.length);
  const files = new Set(await store.blobFileIds());
  return { trees, blobs, files };
}

/** Every stored id that appears in `bytes`, raw or as hex text. */
function idsIn(bytes: Buffer, raw: ReadonlyMap<string, Hash>, out: (id: Hash) => void): void {
  for (let i = 0; i + 32 <= bytes.length; i++) {
    const id = raw.get(bytes.toString('latin1', i, i + 32));
    if (id !== undefined) out(id);
  }
  const text = bytes.toString('latin1');
  for (const m of text.matchAll(/[0-9a-fA-F]{64,}/g)) {
    const run = m[0].toLowerCase();
    for (let i = 0; i + 64 <= run.length; i++) {
      const id = run.slice(i, i + 64);
      if (isHash(id)) out(id);
    }
  }
}

/** The ids of everything reachable from the roots. */
export function mark(store: Store, stored: Stored, extra: readonly Hash[] = []): Set<Hash> {
  const reached = new Set<Hash>();
  const todo: Hash[] = [];
  const root = (id: Hash): void => {
    if (!reached.has(id)) {
      reached.add(id);
      todo.push(id);
    }
  };
  for (const { id } of store.listRefs('')) if (isHash(id)) root(id);
  for (const id of extra) if (isHash(id)) root(id);
  const raw = new Map<string, Hash>();
  for (const ids of [stored.trees.keys(), stored.blobs.keys(), stored.files.values()]) {
    for (const id of ids) raw.set(Buffer.from(id, 'hex').toString('latin1'), id);
  }
  for (const name of store.userDbNames()) {
    if (NOT_ROOTS.has(name)) continue;
    for (const { key, stored: value } of store.rawRecords(name)) {
      idsIn(Buffer.from(key), raw, root);
      idsIn(Buffer.from(value), raw, root);
    }
  }
  while (todo.length > 0) {
    const id = todo.pop() as Hash;
    if (!stored.trees.has(id)) continue;
    let tree: Tree;
    try {
      tree = store.readTree(id);
    } catch {
      continue; // a damaged tree is fsck's business; it stays, and so does what it may name
    }
    for (const e of tree) if (e.id !== undefined) root(e.id);
  }
  return reached;
}

export async function gc(store: Store, opts: GcOptions = {}): Promise<GcReport> {
  const stored = await inventory(store);
  const reached = mark(store, stored, opts.roots);
  const trees: Hash[] = [];
  const blobs: Hash[] = [];
  const files: Hash[] = [];
  let freedBytes = 0;
  for (const [id, size] of stored.trees) {
    if (reached.has(id)) continue;
    trees.push(id);
    freedBytes += size;
  }
  for (const [id, size] of stored.blobs) {
    if (reached.has(id)) continue;
    blobs.push(id);
    freedBytes += size;
  }
  for (const id of stored.files) {
    if (reached.has(id)) continue;
    files.push(id);
    freedBytes += (await stat(store.blobPath(id)).catch(() => ({ size: 0 }))).size;
  }
  const objects = stored.trees.size + stored.blobs.size + stored.files.size;
  const freed = trees.length + blobs.length + files.length;
  const dryRun = opts.dryRun === true;
  if (!dryRun && freed > 0) await store.dropObjects(trees, blobs, files);
  return { objects, reachable: objects - freed, freed, freedBytes, dryRun };
}

/** How many stored objects no root reaches (fsck's count, snapshot rm's estimate). */
export async function unreachable(
  store: Store,
  roots: readonly Hash[] = [],
): Promise<{ count: number; bytes: number }> {
  const r = await gc(store, { dryRun: true, roots });
  return { count: r.freed, bytes: r.freedBytes };
}

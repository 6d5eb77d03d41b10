// The versions of one path across a store's snapshots (like Ori's filelog): which snapshot
// holds what there, oldest first. Reads only trees.
import type { ByteString, Entry, Hash, TreeReader } from '../tree/index.js';
import { listSnapshots, type SnapshotInfo } from './snapshots.js';
import type { Store } from './store.js';

export interface PathVersion {
  readonly snapshot: string;
  readonly takenAt?: string;
  readonly entry: Entry;
}

/** The entry at `path` in tree `root` ('' is no entry: the root has none). */
export function entryAt(reader: TreeReader, root: Hash, path: ByteString): Entry | undefined {
  if (path === '') return undefined;
  let tree = reader.readTree(root);
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const e = tree.find((x) => x.name === parts[i]);
    if (e === undefined || i === parts.length - 1) return e;
    if (e.kind !== 'dir' || e.id === undefined) return undefined;
    tree = reader.readTree(e.id);
  }
  return undefined;
}

const byTime = (a: SnapshotInfo, b: SnapshotInfo): number =>
  (a.takenAt ?? '').localeCompare(b.takenAt ?? '') || a.name.localeCompare(b.name);

/** Every snapshot that has `path`, oldest first, with what it has there. */
export function pathHistory(store: Store, path: ByteString): PathVersion[] {
  const out: PathVersion[] = [];
  for (const s of listSnapshots(store).sort(byTime)) {
    const entry = entryAt(store, s.id, path);
    if (entry === undefined) continue;
    out.push({
      snapshot: s.name,
      ...(s.takenAt === undefined ? {} : { takenAt: s.takenAt }),
      entry,
    });
  }
  return out;
}

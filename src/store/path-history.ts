// The versions of one path across a store's snapshots (like Ori's filelog): which snapshot
// holds what there, oldest first. Reads only trees.
import { lookup, type ByteString, type Entry } from '../tree/index.js';
import { listSnapshots, type SnapshotInfo } from './snapshots.js';
import type { Store } from './store.js';

export interface PathVersion {
  readonly snapshot: string;
  readonly takenAt?: string;
  readonly entry: Entry;
}

const byTime = (a: SnapshotInfo, b: SnapshotInfo): number =>
  (a.takenAt ?? '').localeCompare(b.takenAt ?? '') || a.name.localeCompare(b.name);

/** Every snapshot that has `path`, oldest first, with what it has there. */
export function pathHistory(store: Store, path: ByteString): PathVersion[] {
  const out: PathVersion[] = [];
  for (const s of listSnapshots(store).sort(byTime)) {
    const entry = lookup(store, s.id, path);
    if (entry === undefined) continue;
    out.push({
      snapshot: s.name,
      ...(s.takenAt === undefined ? {} : { takenAt: s.takenAt }),
      entry,
    });
  }
  return out;
}

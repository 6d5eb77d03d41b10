// Named snapshots: a ref `snap/NAME` to the tree, and beside it what `snapshot list` shows
// (where it was taken from, when, how big). The ref is the truth; the record is a label.
import { TetherError } from '../errors.js';
import { asBytes } from './kv.js';
import type { Hash } from '../tree/index.js';
import type { Store } from './store.js';

export interface SnapshotInfo {
  readonly name: string;
  readonly id: Hash;
  readonly of?: string;
  readonly takenAt?: string;
  readonly files?: number;
  readonly bytes?: number;
}

const PREFIX = 'snap/';

/** Throws when a snapshot of this name exists (checked before a scan, and again at saving). */
export function checkNameFree(store: Store, name: string): void {
  if (store.getRef(PREFIX + name) === undefined) return;
  throw new TetherError(
    'EUSAGE',
    `a snapshot named "${name}" exists already: pick another name, or pass --force to replace it`,
    { name },
  );
}

/**
 * Name a tree as a snapshot: the ref and its record in one transaction, with whatever
 * `alongside` puts (a scan's cache records: putSync).
 */
export async function saveSnapshot(
  store: Store,
  info: SnapshotInfo,
  replace: boolean,
  alongside?: () => void,
): Promise<void> {
  const ref = PREFIX + info.name;
  const had = store.getRef(ref);
  if (!replace) checkNameFree(store, info.name);
  const db = store.db('snapshots');
  await store.setRef(ref, info.id, had ?? null, () => {
    db.putSync(Buffer.from(info.name), Buffer.from(JSON.stringify(info)));
    alongside?.();
  });
}

export function listSnapshots(store: Store): SnapshotInfo[] {
  const db = store.db('snapshots');
  return store.listRefs(PREFIX).map(({ name, id }) => {
    const short = name.slice(PREFIX.length);
    const raw = asBytes(db.get(Buffer.from(short)));
    let info: Partial<SnapshotInfo> = {};
    if (raw !== undefined) {
      try {
        info = JSON.parse(raw.toString('utf8')) as Partial<SnapshotInfo>;
      } catch {
        info = {};
      }
    }
    // The ref decides the tree; the record may describe an older one that was replaced.
    return info.id === id ? { ...info, name: short, id } : { name: short, id };
  });
}

export async function removeSnapshot(store: Store, name: string): Promise<void> {
  const ref = PREFIX + name;
  if (store.getRef(ref) === undefined) {
    throw new TetherError(
      'ENOTFOUND',
      `no snapshot named "${name}" in ${store.dir}; "tether snapshot list" shows the names`,
      { name },
    );
  }
  await store.deleteRef(ref);
  await store.db('snapshots').remove(Buffer.from(name));
}

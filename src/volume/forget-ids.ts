// Forgetting the content of evicted files: base, and the last scans of both sides (the engine's
// sync/local and sync/server, the snapshots' volume/local), stop naming the ids of evicted
// files, so that a gc can free their blobs (a server scan takes base's id for a file whose
// stamp did not move, so it names them too). Base keeps each file's stamp (DESIGN decision 4: a file known by its
// stamp until fetched), and a scan ref is only a hint (the next scan reads again what it cannot
// vouch for). An entry changes only where it still names that id; snapshots are never touched,
// so what a snapshot holds stays. Call between syncs (they move these refs).
import type { Path } from '../merge/plan.js';
import { updateTree, type PathUpdate } from '../merge/base-update.js';
import { REF_BASE, REF_LOCAL, REF_SERVER } from '../store/kv.js';
import type { Store } from '../store/store.js';
import { lookup } from '../merge/tree-edit.js';
import type { Hash } from '../tree/index.js';
import { REF_VOLUME_LOCAL } from './local-tree.js';

export async function forgetIds(
  store: Store,
  items: readonly { path: Path; id: Hash }[],
): Promise<void> {
  if (items.length === 0) return;
  for (const ref of [REF_BASE, REF_LOCAL, REF_SERVER, REF_VOLUME_LOCAL]) {
    const root = store.getRef(ref);
    if (root === undefined) continue;
    const updates = items.flatMap(({ path, id }): PathUpdate[] => {
      const e = lookup(store, root, path);
      if (e?.kind !== 'file' || e.id !== id) return [];
      const { id: _id, ...stamp } = e;
      return [{ path, entry: stamp }];
    });
    if (updates.length > 0) await store.setRef(ref, updateTree(store, root, updates), root);
  }
}

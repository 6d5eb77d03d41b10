// Dropping false conflicts (DESIGN decision 4): a server file known only by its stamp, at a
// path changed on both sides, is hashed (read once) before the merge, so two identical edits
// compare equal by content id instead of conflicting on their different mtimes.
import { unchanged } from '../merge/cases.js';
import type { Path } from '../merge/plan.js';
import { walkTrees } from '../merge/walk.js';
import type { Entry, Hash } from '../tree/index.js';
import { TreeEditor, type TreeStore } from './base-update.js';
import { fsPath, hashFile } from './fs-entry.js';

export async function hashBothChanged(
  store: TreeStore,
  base: Hash,
  local: Hash,
  server: Hash,
  serverRoot: string,
): Promise<Hash> {
  const todo: { path: Path; entry: Entry }[] = [];
  walkTrees(store, [base, local, server], (path, [b, l, s]) => {
    if (
      s?.kind === 'file' &&
      s.id === undefined &&
      l?.kind === 'file' &&
      !unchanged(b, l) &&
      !unchanged(b, s)
    ) {
      todo.push({ path, entry: s });
    }
    return l?.kind === 'dir' && s?.kind === 'dir';
  });
  if (todo.length === 0) return server;
  const root = Buffer.from(serverRoot);
  const ed = new TreeEditor(store, server);
  for (const t of todo) {
    const id = await hashFile(fsPath(root, t.path));
    ed.set({ path: t.path, entry: { ...t.entry, id } });
  }
  return ed.finish();
}

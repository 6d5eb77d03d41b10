// Dropping false conflicts (DESIGN decision 4): a server file known only by its stamp, at a
// path changed on both sides, is hashed (read once) before the merge, so two identical edits
// compare equal by content id instead of conflicting on their different mtimes.
// What rests on a stamp here: a server file whose stamp equals base's is taken as unchanged
// (not read). That is the server's trust rule (README "What each side trusts"): on a file
// system that keeps ctime and inodes, the scan has already read a file whose stamp hid a
// change (test/sync/stamps.test.ts); elsewhere such a change is invisible by design.
import { unchanged } from '../merge/cases.js';
import type { Path } from '../merge/plan.js';
import { walkTrees } from '../merge/walk.js';
import type { Entry, Hash } from '../tree/index.js';
import { TreeEditor, type TreeStore } from '../merge/base-update.js';
import { problemError, type PathProblem } from './path-problem.js';

/** Reads a file of the server replica for its content id (the replica's own, guarded read). */
export interface FileHasher {
  /** Where the replica is, for messages (a directory's path). */
  readonly where: string;
  hash(path: Path): Promise<Hash>;
}

export async function hashBothChanged(
  store: TreeStore,
  base: Hash,
  local: Hash,
  server: Hash,
  serverFiles: FileHasher,
  opts: { strict?: boolean; problems?: PathProblem[] } = {},
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
  const ed = new TreeEditor(store, server);
  for (const t of todo) {
    let id: Hash;
    try {
      id = await serverFiles.hash(t.path);
    } catch (err) {
      const problem = problemError(
        err,
        t.path,
        serverFiles.where,
        'read',
        opts.problems === undefined || opts.strict === true,
      );
      if (opts.problems === undefined || opts.strict === true) throw problem;
      // Known by its stamp only, the path is left as it is this run (its actions skipped).
      opts.problems.push({ path: t.path, reason: problem.message });
      continue;
    }
    ed.set({ path: t.path, entry: { ...t.entry, id } });
  }
  return ed.finish();
}

/**
 * Making server renames visible (MERGE.md rule R): a file created on the server is known only
 * by its stamp, so a rename there would look like a delete plus an unrelated create. Created
 * files whose size equals that of a file deleted on the server are hashed (read once), so the
 * merge can pair them by content id and plan a rename instead of a copy.
 */
export async function hashRenameCandidates(
  store: TreeStore,
  base: Hash,
  server: Hash,
  serverFiles: FileHasher,
): Promise<Hash> {
  const deletedSizes = new Set<number>();
  const created: { path: Path; entry: Entry }[] = [];
  walkTrees(store, [base, server], (path, [b, s]) => {
    if (b?.kind === 'file' && b.id !== undefined && s === undefined) deletedSizes.add(b.size);
    if (b === undefined && s?.kind === 'file' && s.id === undefined)
      created.push({ path, entry: s });
    return b?.kind === 'dir' && s?.kind === 'dir';
  });
  const todo = created.filter((c) => deletedSizes.has(c.entry.size));
  if (todo.length === 0) return server;
  const ed = new TreeEditor(store, server);
  for (const t of todo) {
    try {
      ed.set({ path: t.path, entry: { ...t.entry, id: await serverFiles.hash(t.path) } });
    } catch {
      // gone or unreadable since the scan: it stays a plain create
    }
  }
  return ed.finish();
}

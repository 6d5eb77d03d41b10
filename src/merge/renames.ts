// Rule R: renames. Local renames are known exactly from the journal; server renames are given
// by the caller or inferred from a delete plus a create with the same content id. A rename
// that can be applied is planned as a rename on the other side (no data moves) and then
// *assumed done* on that side and in base: the planner merges these virtual trees, so an edit
// made on either side lands at the new name. A rename that cannot be applied safely (target
// taken, parent missing, overlapping another rename) is simply not used: the plain merge of
// delete + create still keeps every byte (invariant 1), it only copies data.
//
// All renames run first in the plan, before any other action: their sources still exist then,
// and their targets' parents exist on every side (a precondition checked here).
import {
  EMPTY_BLOB_ID,
  EMPTY_TREE_ID,
  type Entry,
  type Hash,
  lastName,
  parentOf,
  type TreeReader,
} from '../tree/index.js';
import type { Action, BaseUpdate, Conflict, Path, Side } from './plan.js';
import { isDirAt, lookup, OverlayReader, setAt } from './tree-edit.js';
import { walkTrees } from './walk.js';

export interface Rename {
  readonly from: Path;
  readonly to: Path;
}

export interface RenameViews {
  readonly reader: TreeReader;
  readonly base: Hash;
  readonly local: Hash;
  readonly server: Hash;
  readonly actions: readonly Action[];
  readonly baseUpdates: readonly BaseUpdate[];
  readonly conflicts: readonly Conflict[];
}

const within = (p: Path, q: Path): boolean => p === q || p.startsWith(q + '/');
const related = (p: Path, q: Path): boolean => within(p, q) || within(q, p);
const byPaths = (a: Rename, b: Rename): number =>
  a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0;

/** Server renames implied by the trees: a deleted and a created entry with one same id. */
export function inferRenames(reader: TreeReader, base: Hash, server: Hash): Rename[] {
  const deleted = new Map<Hash, Path[]>();
  const created = new Map<Hash, Path[]>();
  const add = (m: Map<Hash, Path[]>, e: Entry, path: Path): void => {
    if (e.id === undefined || e.id === EMPTY_BLOB_ID || e.id === EMPTY_TREE_ID) return;
    const key = `${e.kind}:${e.id}`;
    const list = m.get(key);
    if (list === undefined) m.set(key, [path]);
    else list.push(path);
  };
  walkTrees(reader, [base, server], (path, [b, s]) => {
    if (b !== undefined && s === undefined) add(deleted, b, path);
    if (b === undefined && s !== undefined) add(created, s, path);
    return b?.kind === 'dir' && s?.kind === 'dir';
  });
  const out: Rename[] = [];
  for (const [key, froms] of deleted) {
    const tos = created.get(key);
    if (froms.length === 1 && tos?.length === 1) out.push({ from: froms[0]!, to: tos[0]! });
  }
  return out.sort(byPaths);
}

interface Candidate extends Rename {
  /** The side where the rename was done; it is applied to the other side. */
  readonly side: Side;
}

export function applyRenames(
  reader: TreeReader,
  base: Hash,
  local: Hash,
  server: Hash,
  given: { local: readonly Rename[]; server: readonly Rename[]; infer: boolean },
): RenameViews {
  const none: RenameViews = {
    reader,
    base,
    local,
    server,
    actions: [],
    baseUpdates: [],
    conflicts: [],
  };
  const localR = [...given.local].sort(byPaths);
  const serverR = [...given.server];
  if (given.infer) {
    const known = new Set(serverR.map((r) => r.from));
    for (const r of inferRenames(reader, base, server)) if (!known.has(r.from)) serverR.push(r);
  }
  serverR.sort(byPaths);
  if (localR.length === 0 && serverR.length === 0) return none;

  // Both sides renamed the same path: rename/rename. Neither rename is applied; the plain
  // merge keeps both new names (a different target) or agrees (the same one).
  const conflicts: Conflict[] = [];
  const serverFrom = new Map(serverR.map((r) => [r.from, r]));
  const twice = new Set<Path>();
  for (const r of localR) {
    const s = serverFrom.get(r.from);
    if (s === undefined) continue;
    twice.add(r.from);
    if (s.to !== r.to) {
      conflicts.push({
        path: r.from,
        kind: 'rename/rename',
        base: lookup(reader, base, r.from) ?? null,
        local: lookup(reader, local, r.to) ?? null,
        server: lookup(reader, server, s.to) ?? null,
        fields: [],
        informational: true,
        message: `renamed to ${r.to} locally and to ${s.to} on the server: both names were kept`,
      });
    }
  }
  const candidates: Candidate[] = [
    ...localR.filter((r) => !twice.has(r.from)).map((r) => ({ ...r, side: 'local' as const })),
    ...serverR.filter((r) => !twice.has(r.from)).map((r) => ({ ...r, side: 'server' as const })),
  ];

  const overlay = new OverlayReader(reader);
  const roots = { base, local, server };
  const actions: Action[] = [];
  const baseUpdates: BaseUpdate[] = [];
  for (const c of candidates) {
    // Later lookups go through the overlay: earlier renames have rewritten the roots.
    if (!usable(c, candidates, overlay, roots)) continue;
    const target: Side = c.side === 'local' ? 'server' : 'local';
    const moved = lookup(overlay, roots[target], c.from)!;
    const b = lookup(overlay, roots.base, c.from)!;
    const name = lastName(c.to);
    actions.push({
      op: 'rename',
      side: target,
      path: c.from,
      to: c.to,
      expect: moved,
      entry: { ...moved, name },
    });
    // Base follows the rename as soon as the rename is done, whatever else waits at `to`.
    const after = [actions.length - 1];
    baseUpdates.push(
      { path: c.from, entry: null, after },
      { path: c.to, entry: { ...b, name }, after },
    );
    roots[target] = setAt(overlay, setAt(overlay, roots[target], c.from, undefined), c.to, moved);
    roots.base = setAt(overlay, setAt(overlay, roots.base, c.from, undefined), c.to, b);
  }
  if (actions.length === 0 && conflicts.length === 0) return none;
  return { reader: overlay, ...roots, actions, baseUpdates, conflicts };
}

/**
 * A rename done on `c.side` can be replayed on the other side when: the source exists in
 * base and, with the same type, on both sides' "before" (the other side may have edited it);
 * the target is free in base and on the other side and exists, with that type, on the
 * renaming side; the target's parent is a directory everywhere; and no other rename touches
 * either path or a path above or below them.
 */
function usable(
  c: Candidate,
  all: readonly Candidate[],
  reader: TreeReader,
  roots: { base: Hash; local: Hash; server: Hash },
): boolean {
  if (c.from === '' || c.to === '' || related(c.from, c.to)) return false;
  for (const o of all) {
    if (o === c) continue;
    if (
      related(o.from, c.from) ||
      related(o.from, c.to) ||
      related(o.to, c.from) ||
      related(o.to, c.to)
    )
      return false;
  }
  const target: Side = c.side === 'local' ? 'server' : 'local';
  const b = lookup(reader, roots.base, c.from);
  const t = lookup(reader, roots[target], c.from);
  const r = lookup(reader, roots[c.side], c.to);
  if (b === undefined || t === undefined || r === undefined) return false;
  if (t.kind !== b.kind || r.kind !== b.kind) return false;
  if (lookup(reader, roots.base, c.to) !== undefined) return false;
  if (lookup(reader, roots[target], c.to) !== undefined) return false;
  const parent = parentOf(c.to);
  return (
    isDirAt(reader, roots.base, parent) &&
    isDirAt(reader, roots[target], parent) &&
    isDirAt(reader, roots[c.side], parent)
  );
}

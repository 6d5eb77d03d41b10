// The three-way merge (MERGE.md): base × local × server → plan. Pure: it reads trees through
// a TreeReader and returns data; applying the plan is src/sync's job.
//
// Decisions this module makes, in one place:
// - Mass-deletion guard (invariant 10): an empty server root while base is not empty
//   throws TetherError('EREMOTEGONE') before anything is planned — an unmounted share
//   looks exactly like that. The caller maps it to "sync stopped, nothing changed"; a root
//   that was really emptied on purpose passes with `allowEmptyRoot`. An empty local root is
//   the user's own doing (MERGE.md's rule-D example deletes a whole local root) and merges
//   like any deletion: symmetry (invariant 11) stops at this guard.
// - Base at a conflicted path advances to what both sides hold at the canonical path after
//   the run (the server's version; the local one lives on as a variant or in the record).
//   Base never takes the local variant, so the conflict stays recorded, while a later edit
//   of the canonical file is not mistaken for a second conflict.
// - `clean` is true when every conflict is informational (modify/delete and
//   directory-delete keep every change and need no decision; rename/rename too).
import { TetherError } from '../errors.js';
import type { Hash, TreeReader } from '../tree/index.js';
import type { Action, BaseUpdate, Path, Plan } from './plan.js';
import { Planner } from './planner.js';
import { applyRenames, type Rename } from './renames.js';
import { linkPuts, type LinksSeen } from './links.js';

export type { Rename } from './renames.js';

export interface MergeOptions {
  /** Run start: the variant timestamp (the plan depends on nothing else but the trees). */
  readonly now: Date;
  /** Renames done locally (net, from base paths to local paths), known from the journal. */
  readonly localRenames?: readonly Rename[];
  /** Renames known to have been done on the server. */
  readonly serverRenames?: readonly Rename[];
  /** Infer server renames from a delete plus a create with the same content id (default true). */
  readonly inferServerRenames?: boolean;
  /** Let an empty root through the mass-deletion guard (it was emptied on purpose). */
  readonly allowEmptyRoot?: boolean;
  /**
   * Paths in the local tree that are variants of open conflicts, written into the local
   * replica (sync-dirs). They are never merged or uploaded, and their names stay taken.
   */
  readonly localVariants?: ReadonlySet<Path>;
  /** Which sides show their hard-link groups (default both; sshfs does not: links.ts). */
  readonly linksSeen?: LinksSeen;
}

export function merge(
  reader: TreeReader,
  base: Hash,
  local: Hash,
  server: Hash,
  opts: MergeOptions,
): Plan {
  const b = reader.readTree(base);
  const s = reader.readTree(server);
  if (opts.allowEmptyRoot !== true && b.length > 0 && s.length === 0) {
    throw new TetherError(
      'EREMOTEGONE',
      `the server root is empty while the last synced tree has ${b.length} entries at its top: ` +
        `an unmounted share looks like this, so nothing was planned and nothing will be deleted. ` +
        `Check that the remote is mounted and readable; if it was emptied on purpose, ` +
        `sync again allowing an empty root`,
      { baseEntries: b.length },
    );
  }

  const views = applyRenames(reader, base, local, server, {
    local: opts.localRenames ?? [],
    server: opts.serverRenames ?? [],
    infer: opts.inferServerRenames ?? true,
  });
  const planner = new Planner(views.reader, opts.now, opts.localVariants);
  planner.run(views.base, views.local, views.server);
  const conflicts = [...views.conflicts, ...planner.conflicts];
  const actions = linkPuts([...views.actions, ...planner.actions], views, opts.linksSeen);
  return {
    clean: conflicts.every((c) => c.informational),
    actions,
    conflicts,
    baseUpdates: [...views.baseUpdates, ...withDependencies(actions, planner.baseUpdates)],
    from: { base, local, server },
  };
}

/** Each base update waits for every action at its path (a rename counts at both ends). */
function withDependencies(
  actions: readonly Action[],
  updates: readonly BaseUpdate[],
): BaseUpdate[] {
  const at = new Map<Path, number[]>();
  const add = (p: Path, i: number): void => {
    const list = at.get(p);
    if (list === undefined) at.set(p, [i]);
    else list.push(i);
  };
  actions.forEach((a, i) => {
    add(a.path, i);
    if (a.op === 'rename') add(a.to, i);
  });
  return updates.map((u) => ({ ...u, after: at.get(u.path) ?? [] }));
}

/** Paths of a plan's conflicts that need a decision. */
export function openConflicts(plan: Plan): Path[] {
  return plan.conflicts.filter((c) => !c.informational).map((c) => c.path);
}

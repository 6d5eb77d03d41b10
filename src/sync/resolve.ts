// `tether resolve PATH --take local|server|base|both` on a two-replica (sync-dirs) store, or in
// a mounted volume: the user's decision on one conflict, planned (resolve-plan.ts), carried out
// on both replicas step by step with re-checks (resolve-apply.ts), then recorded: the record
// moves to the history, and base advances for the path (a directory with its tree id, its
// trees in the store).
import type { Path } from '../merge/plan.js';
import { DirReplica } from '../replica/dir.js';
import type { ResolvedConflict } from './conflict-store.js';
import { applyResolve, type ResolveHooks } from './resolve-apply.js';
import type { ResolveEnv, Take } from './resolve-env.js';
import { noConflict } from './resolve-errors.js';
import { planResolve } from './resolve-plan.js';
import { hashedEntry } from './resolve-read.js';

export { TAKES, type ResolveEnv, type SyncBase, type Take } from './resolve-env.js';

/**
 * Resolve the conflict `name` names: its canonical path, or its variant's path (which tells
 * several conflicts at one path apart: see ConflictStore.get).
 */
export async function resolveConflict(
  env: ResolveEnv,
  name: Path,
  take: Take,
  hooks: ResolveHooks = {},
): Promise<ResolvedConflict> {
  const c = env.conflicts.get(name);
  if (c === undefined) throw noConflict(env.conflicts.list(), name);
  const sides = {
    local: new DirReplica(env.localRoot, 'local replica'),
    server: new DirReplica(env.serverRoot, 'server replica'),
  };
  const plan = await planResolve(env, c, take, sides);
  await applyResolve(plan.steps, sides, env.base, hooks);
  const result = await hashedEntry(sides.local, plan.at, env.base);
  // The record closes first: a run cut short before base moves leaves both replicas holding
  // the same new entry, which the next sync takes into base as a change made on both sides.
  const resolved = await env.conflicts.resolve(c, {
    resolution: take,
    at: env.now().getTime(),
    ...(take === 'both' ? { result: plan.kept ?? null, keptPath: plan.at } : { result }),
  });
  await env.base.advance([{ path: plan.at, entry: result }]);
  return resolved;
}

// How a plan is written down, apart from what is decided (planner.ts): buffers of actions
// and base updates in executable order, conflict records, and the two bulk moves every rule
// needs — copy a leaf or subtree to a side, delete one from a side (children first). Each
// emits the base updates that go with its actions, so an apply interrupted halfway commits
// exactly what was done.
import { changedFields, joinPath, type Entry, type Field, type TreeReader } from '../tree/index.js';
import { isSpecial } from './cases.js';
import type { Action, BaseUpdate, Conflict, Path, Side } from './plan.js';
import { listingOf } from './walk.js';

export interface Out {
  actions: Action[];
  bases: BaseUpdate[];
}

/** Whether the path exists on each side once the plan has run. */
export interface Presence {
  readonly local: boolean;
  readonly server: boolean;
}

export interface Ctx {
  /** Below a directory deleted on one side (rule D): the record goes on that directory only. */
  readonly inDirDelete: boolean;
}

export const BOTH: Presence = { local: true, server: true };
export const NONE: Presence = { local: false, server: false };
export const only = (side: Side): Presence => ({
  local: side === 'local',
  server: side === 'server',
});
export const other = (side: Side): Side => (side === 'local' ? 'server' : 'local');

/** A directory's own entry, without the id that its children determine. */
export function node(e: Entry): Entry {
  if (e.kind !== 'dir' || e.id === undefined) return e;
  const { id: _id, ...rest } = e;
  return rest;
}

/** Fields of a directory's own entry that differ (not its children). */
export function nodeFields(a: Entry, b: Entry): Field[] {
  return changedFields(node(a), node(b)).filter((f) => f !== 'content' && f !== 'mtime');
}

export class PlanBuilder {
  private out: Out = { actions: [], bases: [] };
  readonly conflicts: Conflict[] = [];

  constructor(protected readonly reader: TreeReader) {}

  get actions(): readonly Action[] {
    return this.out.actions;
  }
  get baseUpdates(): readonly BaseUpdate[] {
    return this.out.bases;
  }

  protected capture(fn: () => Presence): { presence: Presence; out: Out } {
    const saved = this.out;
    this.out = { actions: [], bases: [] };
    try {
      return { presence: fn(), out: this.out };
    } finally {
      this.out = saved;
    }
  }
  protected emit(o: Out): void {
    for (const a of o.actions) this.out.actions.push(a);
    for (const b of o.bases) this.out.bases.push(b);
  }
  protected act(a: Action): void {
    this.out.actions.push(a);
  }
  protected setBase(path: Path, entry: Entry | null): void {
    this.out.bases.push({ path, entry });
  }
  protected record(c: Conflict): void {
    this.conflicts.push(c);
  }
  /** Put `entry` at `path` on `side` (which holds `expect`), its content from `from`. */
  protected put(side: Side, path: Path, expect: Entry | null, entry: Entry, from = other(side)) {
    this.act({ op: 'put', side, path, expect, entry, from, fromPath: path });
  }
  /**
   * Copy `src` (a leaf or a whole subtree) to `to`, where the path is free, with a base update
   * per path created (so a copy interrupted halfway commits only what arrived). Special files
   * are not copied.
   */
  protected copyTo(to: Side, path: Path, src: Entry): boolean {
    if (isSpecial(src)) return false;
    if (src.kind !== 'dir') {
      this.put(to, path, null, src);
      this.setBase(path, src);
      return true;
    }
    const dirNode = node(src);
    this.act({ op: 'mkdir', side: to, path, expect: null, entry: dirNode });
    this.setBase(path, dirNode);
    for (const child of listingOf(this.reader, src) ?? []) {
      this.copyTo(to, joinPath(path, child.name), child);
    }
    return true;
  }
  /**
   * Delete `e` and everything below it on `side`, children first, each with its base update
   * (so a deletion interrupted halfway commits what went). Special files are never deleted,
   * so a directory holding one stays. Returns true when all of it is gone.
   */
  protected deleteTree(side: Side, path: Path, e: Entry): boolean {
    if (isSpecial(e)) return false;
    if (e.kind === 'dir') {
      let all = true;
      for (const k of listingOf(this.reader, e) ?? []) {
        all = this.deleteTree(side, joinPath(path, k.name), k) && all;
      }
      if (!all) return false;
    }
    this.act({ op: 'delete', side, path, expect: node(e) });
    this.setBase(path, null);
    return true;
  }
}

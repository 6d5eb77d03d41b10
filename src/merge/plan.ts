// The plan: what a three-way merge decides, as data. `merge()` returns it and never writes;
// `src/sync/apply` executes it. Every action carries the state it expects to find at its
// target (Mutagen's habit): apply re-checks it and skips (re-plans) the path on a mismatch,
// never overwriting something it did not see.
import type { ByteString, Entry, Field, Hash } from '../tree/index.js';

/** The two live sides. `local` is the replica the user works in; `server` is the remote. */
export type Side = 'local' | 'server';
export type Variant = Side | 'base';

export function otherSide(side: Side): Side {
  return side === 'local' ? 'server' : 'local';
}

/** A path from the volume root, names joined by '/', as a byte string ('' = root). */
export type Path = ByteString;

export type Action =
  /** Create or replace `path` on `side` with `entry` (content copied from `from`'s `fromPath`). */
  | {
      readonly op: 'put';
      readonly side: Side;
      readonly path: Path;
      readonly expect: Entry | null;
      readonly entry: Entry;
      readonly from: Side;
      readonly fromPath: Path;
      /** Made as a hard link to another name of the same file on `side` (rule H, links.ts). */
      readonly link?: LinkTo;
    }
  /** Create a directory (its children come as further actions). */
  | {
      readonly op: 'mkdir';
      readonly side: Side;
      readonly path: Path;
      readonly expect: null;
      readonly entry: Entry;
    }
  /** Change metadata fields only (mode, xattrs, mtime, uid, gid): no content moves. */
  | {
      readonly op: 'setmeta';
      readonly side: Side;
      readonly path: Path;
      readonly expect: Entry;
      readonly entry: Entry;
      readonly fields: readonly Field[];
    }
  /** Remove `path` on `side` (a directory only once empty: its children come first). */
  | { readonly op: 'delete'; readonly side: Side; readonly path: Path; readonly expect: Entry }
  /** Rename on `side` (known exactly from a journal, or inferred from equal content ids). */
  | {
      readonly op: 'rename';
      readonly side: Side;
      readonly path: Path;
      readonly to: Path;
      readonly expect: Entry;
      readonly entry: Entry;
    }
  /**
   * Keep `side`'s version of a conflicted path as a sibling variant named `variantPath`
   * (DESIGN.md item 9); written where `side`'s data lives (into the local replica). `entry` is
   * what is expected at `path` (a directory moves with its whole subtree). Afterwards `path`
   * is free on `side`: the next action puts the server's version there (expect: null).
   */
  | {
      readonly op: 'variant';
      readonly side: Side;
      readonly path: Path;
      readonly variantPath: Path;
      readonly entry: Entry;
    };

/**
 * Where a put's file is on its target side already (MERGE.md rule H): another name of the same
 * file there, by the time the put runs. Where the side refuses links, the put copies instead.
 */
export interface LinkTo {
  readonly to: Path;
  /** What the plan expects at `to` (a name the plan also puts: the entry it puts there). */
  readonly expect: Entry;
  /** Only stamps say the bytes are the same: apply compares them before linking. */
  readonly verify?: boolean;
}

export type ConflictKind =
  | 'edit/edit'
  | 'add/add'
  | 'modify/delete' // modified locally, deleted on the server
  | 'delete/modify' // deleted locally, modified on the server
  | 'type'
  | 'metadata'
  | 'rename/rename'
  | 'directory-delete';

/** One conflict record: the truth about a conflicted path (the variant's name is a hint). */
export interface Conflict {
  readonly path: Path;
  readonly kind: ConflictKind;
  readonly base: Entry | null;
  readonly local: Entry | null;
  readonly server: Entry | null;
  /** Fields in conflict (for `metadata`), e.g. ['mode']. */
  readonly fields: readonly Field[];
  /** Where the local version was kept as a sibling, when one was made. */
  readonly variantPath?: Path;
  /** True for records that need no decision (e.g. modify/delete resolved by keeping the edit). */
  readonly informational: boolean;
  readonly message: string;
}

/**
 * Base advancement (MERGE.md invariant 6): after a run, base(p) = local(p) where
 * local(p) = server(p). Each entry here says: once every action for `path` succeeded, base
 * at `path` becomes `entry` (null = absent). Paths with failed actions keep their old base.
 *
 * Precisely: an update is committed, in plan order, once every action listed in `after`
 * (indexes into `actions`) has succeeded; `merge()` always fills it in. Without `after`, the
 * update waits for every action whose `path` (or rename `to`) is its path. What `entry` means:
 * - null: the path and everything below it leave base;
 * - a non-directory: the path becomes that entry (anything below it leaves base);
 * - a directory with an `id`: the path becomes that whole subtree, as stored under the id;
 * - a directory without an `id`: the path becomes a directory with these fields; if it was
 *   one, its children stay (they come as their own updates), otherwise it starts empty.
 */
export interface BaseUpdate {
  readonly path: Path;
  readonly entry: Entry | null;
  /** Indexes into `Plan.actions` that must all succeed before this update is committed. */
  readonly after?: readonly number[];
}

export interface Plan {
  readonly clean: boolean;
  readonly actions: readonly Action[];
  readonly conflicts: readonly Conflict[];
  readonly baseUpdates: readonly BaseUpdate[];
  /** The three trees the plan was made from. */
  readonly from: { readonly base: Hash; readonly local: Hash; readonly server: Hash };
}

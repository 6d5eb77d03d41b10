// What a resolve works with: the user's choice, the sync base (entries and the store's
// objects), the conflict records, and where the two replicas are.
import type { Path } from '../merge/plan.js';
import type { Entry, Hash, Tree, TreeReader } from '../tree/index.js';
import type { ConflictStore } from './conflict-store.js';

export type Take = 'local' | 'server' | 'base' | 'both';
export const TAKES: readonly Take[] = ['local', 'server', 'base', 'both'];

/** The sync base, as resolve needs it: the base tree's entries, and the store's objects. */
export interface SyncBase extends TreeReader {
  /** The base entry at `path` (what both replicas held there after the last sync). */
  entryAt(path: Path): Entry | undefined;
  /** Content of a blob kept in the store; throws when the store does not have it. */
  readBlob(id: Hash): Promise<Buffer>;
  /** True when the store keeps the object (a blob or a tree). */
  has(id: Hash): boolean;
  /** Keep a directory listing in the store; returns its id. */
  putTree(tree: Tree): Hash;
  /** Set base at each path to the entry (null: the path leaves base). */
  advance(updates: readonly { path: Path; entry: Entry | null }[]): Promise<void>;
}

export interface ResolveEnv {
  readonly conflicts: ConflictStore;
  readonly base: SyncBase;
  /** Root of the local replica (A) and of the server replica (B). */
  readonly localRoot: string;
  readonly serverRoot: string;
  readonly now: () => Date;
}

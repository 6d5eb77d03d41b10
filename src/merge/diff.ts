// Two-way tree diff: what changed from tree a to tree b, path by path. It rides the n-way walk
// (walk.ts), so every subtree whose id is equal on both sides is skipped unread and the cost
// grows with the number of changes, not with the size of the trees.
//
// Statuses follow `git diff --name-status`: A added, D deleted, T type changed, M modified —
// in content or, with `fields` saying which, in metadata only. An added or deleted directory
// lists itself and every path below it (so empty directories show); a directory whose only
// change is its listing is not itself a change (its children say what changed). A file whose
// hard-link group changed (linked, unlinked, or grouped with other names) is M with `links`:
// the diff reports it, though the merge, which uses changedFields, does not act on it.
import {
  changedFields,
  compareBytes,
  type Entry,
  type Field,
  type Hash,
  type TreeReader,
} from '../tree/index.js';
import type { Path } from './plan.js';
import { walkTrees } from './walk.js';

export type DiffStatus = 'A' | 'D' | 'M' | 'T';

export interface Change {
  readonly path: Path;
  readonly status: DiffStatus;
  /** The fields that differ: ['kind'] for T, every field of the entry for A and D. */
  readonly fields: readonly Field[];
  readonly a: Entry | null;
  readonly b: Entry | null;
}

/**
 * Mtimes this close are the same time: file times are set through a double of seconds, so a
 * copy carries its source's mtime give or take a fraction of a microsecond (the sync layer's
 * stamp window, src/scan/stamp.ts, is the same).
 */
export const MTIME_WINDOW_NS = 2_000n;

/** Two mtimes the same but for the replicas' time granularity. */
export function closeMtimes(a: bigint, b: bigint): boolean {
  const d = a - b;
  return d <= MTIME_WINDOW_NS && d >= -MTIME_WINDOW_NS;
}

const ALL: readonly Field[] = ['content', 'mode', 'uid', 'gid', 'mtime', 'rdev', 'xattrs'];

/** One path's change, or undefined when the two entries differ in nothing a diff reports. */
export function changeOf(
  path: Path,
  a: Entry | undefined,
  b: Entry | undefined,
): Change | undefined {
  if (a === undefined && b === undefined) return undefined;
  if (a === undefined) return { path, status: 'A', fields: ALL, a: null, b: b! };
  if (b === undefined) return { path, status: 'D', fields: ALL, a, b: null };
  if (a.kind !== b.kind) return { path, status: 'T', fields: ['kind'], a, b };
  let fields = changedFields(a, b);
  if (a.kind === 'dir') fields = fields.filter((f) => f !== 'content');
  if (a.link !== b.link) fields.push('links');
  if (fields.includes('mtime') && closeMtimes(a.mtimeNs, b.mtimeNs)) {
    fields = fields.filter((f) => f !== 'mtime');
  }
  if (fields.length === 0) return undefined;
  return { path, status: 'M', fields, a, b };
}

/** The changes in walk order (each directory's names in byte order, depth first). */
export function* walkDiff(reader: TreeReader, a: Hash, b: Hash): Generator<Change> {
  if (a === b) return;
  const found: Change[] = [];
  walkTrees(reader, [a, b], (path, [ea, eb]) => {
    const c = changeOf(path, ea, eb);
    if (c !== undefined) found.push(c);
    return ea?.kind === 'dir' || eb?.kind === 'dir';
  });
  yield* found;
}

/** Every change from a to b, sorted by path bytes. */
export function diffTrees(reader: TreeReader, a: Hash, b: Hash): Change[] {
  return [...walkDiff(reader, a, b)].sort((x, y) => compareBytes(x.path, y.path));
}

/** Counts per status and the bytes of file content added and removed. */
export interface DiffStat {
  readonly added: number;
  readonly deleted: number;
  readonly modified: number;
  readonly typeChanged: number;
  readonly bytesAdded: number;
  readonly bytesRemoved: number;
}

export function diffStat(changes: Iterable<Change>): DiffStat {
  let added = 0;
  let deleted = 0;
  let modified = 0;
  let typeChanged = 0;
  let bytesAdded = 0;
  let bytesRemoved = 0;
  const bytes = (e: Entry | null): number => (e?.kind === 'file' ? e.size : 0);
  for (const c of changes) {
    switch (c.status) {
      case 'A':
        added++;
        break;
      case 'D':
        deleted++;
        break;
      case 'M':
        modified++;
        break;
      case 'T':
        typeChanged++;
        break;
    }
    if (c.status === 'M' && !c.fields.includes('content')) continue;
    bytesAdded += bytes(c.b);
    bytesRemoved += bytes(c.a);
  }
  return { added, deleted, modified, typeChanged, bytesAdded, bytesRemoved };
}

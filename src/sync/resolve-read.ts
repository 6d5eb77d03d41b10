// What resolve reads of a replica: an entry with its content hashed (a directory read whole,
// its listings kept), whether a path holds a recorded version (a directory entry by entry),
// and the fixed temporary names a staged replacement uses beside a path.
import { readdir } from 'node:fs/promises';
import {
  byteString,
  bytesOf,
  hashBytes,
  joinPath,
  sameContent,
  sortTree,
  xattrsEqual,
  type Entry,
  type Field,
  type Hash,
  type Tree,
  type TreeReader,
} from '../tree/index.js';
import type { Path } from '../merge/plan.js';
import { fsPath, hashFile } from '../scan/fs-entry.js';
import { DirReplica } from '../replica/dir.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { readXattrs } from '../scan/xattrs.js';

/** Root may set owners; anyone else keeps their own (so owners are neither set nor compared). */
export const isRoot = process.getuid?.() === 0;

/** The two temporary names beside `path` that a staged replacement uses (fixed per path). */
export function stagingOf(path: Path): { fresh: Path; old: Path } {
  const i = path.lastIndexOf('/');
  const dir = i < 0 ? '' : path.slice(0, i + 1);
  const tag = hashBytes(bytesOf(path)).slice(0, 16);
  return {
    fresh: `${dir}${TEMP_PREFIX}resolve-new-${tag}`,
    old: `${dir}${TEMP_PREFIX}resolve-old-${tag}`,
  };
}

/** A replica path as bytes (names need not be UTF-8). */
export function full(root: string, path: Path): Buffer {
  return fsPath(Buffer.from(root), path);
}

/** Where resolve keeps the listings of the directories it reads. */
export interface TreeSink {
  putTree(tree: Tree): Hash;
}

/**
 * The entry at `path` in a replica, a file's content hashed; null when nothing is there. With
 * `trees`, entries are read as a scan reads them (xattrs too) and a directory is read whole,
 * its listings kept in `trees`, so it carries its tree id.
 */
export async function hashedEntry(
  r: DirReplica,
  path: Path,
  trees?: TreeSink,
): Promise<Entry | null> {
  const e = await r.entry(path);
  if (e === undefined) return null;
  if (trees === undefined)
    return e.kind === 'file' ? { ...e, id: await hashFile(await r.reach(path)) } : e;
  const xattrs =
    e.kind === 'file' || e.kind === 'dir' ? await readXattrs(await r.reach(path)) : undefined;
  const read = xattrs === undefined ? e : { ...e, xattrs };
  if (e.kind === 'file') return { ...read, id: await hashFile(await r.reach(path)) };
  if (e.kind !== 'dir') return read;
  const kids: Entry[] = [];
  for (const name of await namesIn(r, path)) {
    const kid = await hashedEntry(r, joinPath(path, name), trees);
    if (kid !== null) kids.push(kid);
  }
  return { ...read, id: trees.putTree(sortTree(kids)) };
}

/** hashedEntry in the replica rooted at `root`. */
export async function entryAt(root: string, path: Path, trees?: TreeSink): Promise<Entry | null> {
  return hashedEntry(new DirReplica(root, root), path, trees);
}

/** The names in a replica directory, leaving out temporary ones (as a scan does). */
async function namesIn(r: DirReplica, path: Path): Promise<string[]> {
  const raw = await readdir(await r.reach(path), { encoding: 'buffer' });
  return raw.map(byteString).filter((n) => !n.startsWith(TEMP_PREFIX));
}

/**
 * True when `path` holds `e` as Replica.matches judges it (kind, mode, content by stamp or
 * hash) and, for a directory, holds exactly the entries of its recorded tree, each in turn.
 */
export async function holds(
  r: DirReplica,
  path: Path,
  e: Entry,
  trees: TreeReader,
): Promise<boolean> {
  if (!(await r.matches(path, e))) return false;
  if (e.kind !== 'dir') return true;
  if (e.id === undefined) return false;
  const want = trees.readTree(e.id);
  const names = await namesIn(r, path);
  if (names.length !== want.length) return false;
  const have = new Set(names);
  for (const k of want) {
    if (!have.has(k.name) || !(await holds(r, joinPath(path, k.name), k, trees))) return false;
  }
  return true;
}

/**
 * `want` is at `path`, every field resolve sets: a file or symlink by its content, and the
 * fields a resolve carries over (metaFields: mode, owner where resolve may set it, xattrs); a
 * directory by holds() and the same fields on the directory itself. Content and mode alone
 * would call a metadata conflict (an xattr, an owner) done before anything was set.
 */
export async function holdsVersion(
  r: DirReplica,
  path: Path,
  want: Entry,
  trees: TreeReader,
): Promise<boolean> {
  if (want.kind === 'dir') {
    if (!(await holds(r, path, want, trees))) return false;
    const xattrs = await readXattrs(await r.reach(path));
    const dir = await r.entry(path);
    return (
      dir !== undefined &&
      metaFields({ ...dir, ...(xattrs === undefined ? {} : { xattrs }) }, want).length === 0
    );
  }
  if ((await r.entry(path))?.kind !== want.kind) return false;
  const have = await hashedEntry(r, path, NO_TREES);
  return have !== null && sameContentAs(have, want) && metaFields(have, want).length === 0;
}

/** hashedEntry with xattrs, for a leaf (which puts no tree). */
const NO_TREES: TreeSink = {
  putTree: () => {
    throw new Error('resolve: a leaf has no tree');
  },
};

/** Metadata fields resolve carries over when the content stays. */
export function metaFields(a: Entry, b: Entry): Field[] {
  const out: Field[] = [];
  if (a.mode !== b.mode && b.kind !== 'symlink') out.push('mode');
  if (isRoot && (a.uid !== b.uid || a.gid !== b.gid)) out.push('uid');
  if ((b.kind === 'file' || b.kind === 'dir') && !xattrsEqual(a.xattrs, b.xattrs)) {
    out.push('xattrs');
  }
  return out;
}

/** Same kind and content (tree's rule; directories by their tree ids). */
export function sameContentAs(a: Entry, b: Entry | null): boolean {
  if (b === null || a.kind !== b.kind) return false;
  return a.kind === 'dir' ? a.id === b.id : sameContent(a, b);
}

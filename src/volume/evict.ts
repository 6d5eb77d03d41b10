// Evicting clean cached files: each becomes a placeholder again (placeholders.ts), a sparse
// file of the same size, mode, owner and mtime. The placeholders are made beside the files under
// temporary names, recorded with their inodes (one batch: one commit for them all), then renamed
// over the files. In that order a kill at any point leaves each path either the cached file (its
// record names another inode, so it does not count) or the placeholder, never content that
// reads as zeros while it claims to be cached. A descriptor opened before the rename keeps
// reading the old content to its close; an open that comes while the batch is made is told to
// the culler, which withdraws the file (`claim` answers false), or, once its rename has begun,
// holds the open until the rename is done (the open then sees a placeholder and fetches).
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import { timeArg } from '../scan/stamp.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import type { Placeholders } from './placeholders.js';

export interface Eviction {
  readonly path: Path;
  /** The file as the cull planned from it: evicted only while it is still exactly that. */
  readonly was: BigIntStats;
}

interface Prepared extends Eviction {
  readonly tmp: Buffer;
  readonly ino: bigint;
}

/** Whether the file at `at` is still the one `was` describes. */
async function unchanged(at: Buffer, was: BigIntStats): Promise<boolean> {
  const now = await lstat(at, { bigint: true }).catch(() => undefined);
  return (
    now !== undefined &&
    now.isFile() &&
    now.ino === was.ino &&
    now.size === was.size &&
    now.mtimeNs === was.mtimeNs &&
    now.ctimeNs === was.ctimeNs
  );
}

/** The placeholder of `e`, made under a temporary name beside it (undefined: the file changed). */
async function prepare(root: Buffer, e: Eviction): Promise<Prepared | undefined> {
  if (!(await unchanged(fsPath(root, e.path), e.was))) return undefined;
  const { was } = e;
  const slash = e.path.lastIndexOf('/');
  const dir = slash < 0 ? '' : e.path.slice(0, slash + 1);
  const tmp = fsPath(root, dir + TEMP_PREFIX + 'cull-' + randomBytes(6).toString('hex'));
  const mode = Number(was.mode) & 0o7777;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.truncate(Number(was.size));
    await fh.chown(Number(was.uid), Number(was.gid)).catch(() => undefined); // not root: ours
    await fh.chmod(mode); // a chown may clear set-id bits
    await fh.utimes(timeArg(was.atimeNs), timeArg(was.mtimeNs));
    await fh.sync();
    const { ino } = await fh.stat({ bigint: true });
    await fh.close();
    return { ...e, tmp, ino };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Asked right before each rename: whether the file is still to go (and from then on it goes). */
export interface Claims {
  claim(path: Path): boolean;
  /** The file's rename is done (or did not happen). */
  release(path: Path): void;
}

/** Evict each file that is still as planned; answers the paths evicted. */
export async function evictToPlaceholders(
  root: Buffer,
  evictions: readonly Eviction[],
  placeholders: Placeholders,
  claims: Claims,
): Promise<Path[]> {
  const ready: Prepared[] = [];
  try {
    for (const e of evictions) {
      const p = await prepare(root, e);
      if (p !== undefined) ready.push(p);
    }
    await Promise.all(ready.map((p) => placeholders.add(p.path, p.ino)));
  } catch (err) {
    await Promise.all(ready.map((p) => rm(p.tmp, { force: true })));
    throw err;
  }
  const done: Path[] = [];
  for (const p of ready) {
    try {
      // Opened, written or replaced while the batch was made: it stays, with its content.
      if (claims.claim(p.path) && (await unchanged(fsPath(root, p.path), p.was))) {
        await rename(p.tmp, fsPath(root, p.path));
        done.push(p.path);
      } else {
        await rm(p.tmp, { force: true });
        await placeholders.remove(p.path);
      }
    } finally {
      claims.release(p.path);
    }
  }
  return done;
}

// Evicting one clean cached file: it becomes a placeholder again (placeholders.ts), a sparse
// file of the same size, mode, owner and mtime. The placeholder is made beside the file under
// a temporary name, recorded with its inode, then renamed over the file. In that order a kill
// at any point leaves either the cached file (the record names another inode, so it does not
// count) or the placeholder, never content that reads as zeros while it claims to be cached.
// A descriptor opened before the rename keeps reading the old content to its close.
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import { timeArg } from '../scan/stamp.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import type { Placeholders } from './placeholders.js';

/**
 * Evict `path` if it is still the file `was` describes (a cull plans from a walk; the file may
 * have changed since). Answers whether it was evicted.
 */
export async function evictToPlaceholder(
  root: Buffer,
  path: Path,
  was: BigIntStats,
  placeholders: Placeholders,
): Promise<boolean> {
  const at = fsPath(root, path);
  const now = await lstat(at, { bigint: true }).catch(() => undefined);
  const same =
    now !== undefined &&
    now.isFile() &&
    now.ino === was.ino &&
    now.size === was.size &&
    now.mtimeNs === was.mtimeNs &&
    now.ctimeNs === was.ctimeNs;
  if (!same) return false;
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash);
  const tmp = fsPath(
    root,
    (dir === '' ? '' : dir + '/') + TEMP_PREFIX + 'cull-' + randomBytes(6).toString('hex'),
  );
  const fh = await open(tmp, 'wx', Number(now.mode) & 0o7777);
  let ino: bigint;
  try {
    await fh.truncate(Number(now.size));
    await fh.chown(Number(now.uid), Number(now.gid)).catch(() => undefined); // not root: ours anyway
    await fh.chmod(Number(now.mode) & 0o7777); // chown may clear set-id bits
    await fh.utimes(timeArg(now.atimeNs), timeArg(now.mtimeNs));
    await fh.sync();
    ino = (await fh.stat({ bigint: true })).ino;
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await placeholders.add(path, ino);
  await rename(tmp, at);
  return true;
}

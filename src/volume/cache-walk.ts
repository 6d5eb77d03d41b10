// One walk of the local view for the cache: every regular file that takes blocks (fetched or
// written content; placeholders are sparse and take none), with the stat a cull re-checks
// before it evicts. Directories and links are counted as bytes but are never candidates.
// And the walk that sets the cache's running total (walkCache): the view and the store.
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Path } from '../merge/plan.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { allocated } from './cache-use.js';
import type { Volume } from './volume.js';

export interface WalkedFile {
  readonly path: Path;
  /** Allocated bytes (st_blocks × 512). */
  readonly bytes: number;
  readonly st: BigIntStats;
}

const TEMP = Buffer.from(TEMP_PREFIX);

export interface Walked {
  readonly files: WalkedFile[];
  /** Allocated bytes of everything else: directories, links, the engine's temporary files. */
  readonly otherBytes: number;
}

export async function walkLocal(root: string): Promise<Walked> {
  const files: WalkedFile[] = [];
  let otherBytes = 0;
  const seen = new Set<bigint>();
  const rootBuf = Buffer.from(root);
  const walk = async (dir: Buffer, prefix: Path): Promise<void> => {
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: 'buffer' });
    } catch {
      return; // gone, or past PATH_MAX: counted by the next walk that reaches it
    }
    for (const name of names) {
      const at = Buffer.concat([dir, Buffer.from('/'), name]);
      const path = prefix + name.toString('latin1');
      const st = await lstat(at, { bigint: true }).catch(() => undefined);
      if (st === undefined) continue;
      const bytes = Number(st.blocks) * 512;
      if (st.isDirectory()) {
        otherBytes += bytes;
        await walk(at, path + '/');
        continue;
      }
      // A hard-linked file takes its blocks once, whichever name the walk meets first.
      if (st.nlink > 1n) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      if (st.isFile() && !name.subarray(0, TEMP.length).equals(TEMP)) {
        if (bytes > 0) files.push({ path, bytes, st });
      } else otherBytes += bytes;
    }
  };
  await walk(rootBuf, '');
  return { files, otherBytes };
}

/**
 * One walk of the view and of the store for the running total: each file of the view with
 * what it takes and whether it is pinned (a pinned file's blob is pinned content too: counted
 * with it, not with the store), and what the store takes apart from those blobs.
 */
export async function walkCache(
  v: Volume,
  isPinned: (path: Path) => boolean,
): Promise<{
  readonly files: WalkedFile[];
  readonly entries: [Path, number, boolean][];
  readonly storeBytes: number;
}> {
  const w = await walkLocal(v.local);
  // The store's tmp/ holds writes under way (a fetched file's blob being stored and synced):
  // they are counted as their fetches are (room held, content still to be stored), not twice.
  const inFlight = join(v.storeDir, 'tmp');
  const storeBytes = await allocated(v.storeDir, new Set([v.local, inFlight]), new Set());
  let pinnedBlobs = 0;
  const entries: [Path, number, boolean][] = [];
  for (const f of w.files) {
    const pinned = isPinned(f.path);
    const blob = pinned ? await blobBytes(v, f.path) : 0;
    pinnedBlobs += blob;
    entries.push([f.path, f.bytes + blob, pinned]);
  }
  return { files: w.files, entries, storeBytes: storeBytes + w.otherBytes - pinnedBlobs };
}

/**
 * What the blob of base's content at `path` takes as a file in the store (0: none), also where
 * the file was just fetched and stored and base is still to learn its id.
 */
async function blobBytes(v: Volume, path: Path): Promise<number> {
  const id = v.baseEntry(path)?.id ?? v.learner.storedId(path);
  if (id === undefined) return 0;
  const st = await lstat(v.store.blobPath(id)).catch(() => undefined);
  return st === undefined ? 0 : st.blocks * 512;
}

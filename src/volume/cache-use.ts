// What a volume's cache takes on disk: the store (objects, database) apart from the local
// view, and the local view itself (placeholders are sparse, so only fetched or written content
// counts). Allocated blocks, as du(1) counts them, each inode once.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface CacheUse {
  /** Bytes the store takes, less the local view. */
  readonly storeBytes: number;
  /** Bytes the local view takes (content fetched or written; placeholders take none). */
  readonly localBytes: number;
}

/** Allocated bytes under `dir` (not following symlinks), skipping the `skip` directories. */
export async function allocated(
  dir: string,
  skip: ReadonlySet<string>,
  seen: Set<bigint>,
): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // vanished or unreadable: it takes nothing we can count
  }
  for (const name of names) {
    const p = join(dir, name);
    if (skip.has(p)) continue;
    try {
      const st = await lstat(p, { bigint: true });
      if (st.nlink > 1n) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      total += Number(st.blocks) * 512;
      if (st.isDirectory()) total += await allocated(p, skip, seen);
    } catch {
      // gone between the listing and the lstat
    }
  }
  return total;
}

export async function cacheUse(storeDir: string, localDir: string): Promise<CacheUse> {
  const seen = new Set<bigint>();
  const localBytes = await allocated(localDir, new Set(), seen);
  const storeBytes = await allocated(storeDir, new Set([localDir]), seen);
  return { storeBytes, localBytes };
}

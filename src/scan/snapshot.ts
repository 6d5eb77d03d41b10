// Snapshot of a directory: walk it (the one walker, src/sync/scan-replica.ts), store every
// file's content in the store and return the tree id. Incremental through the stat cache: a
// file whose stat is unchanged since the last scan with the same cache key is not read again.
// Reads run in parallel inside the walker; the hashing itself is native code.
import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { TetherError } from '../errors.js';
import type { Store } from '../store/store.js';
import { asBytes } from '../sync/ports.js';
import { scanReplica } from '../sync/scan-replica.js';
import { display, fromText, type ByteString, type Hash } from '../tree/index.js';
import { StatCache } from './stat-cache.js';

export interface ScanProgress {
  files: number;
  bytes: number;
  hashedFiles: number;
  hashedBytes: number;
}

export interface ScanResult extends ScanProgress {
  readonly id: Hash;
}

export interface SnapshotOptions {
  /** Namespace of the stat cache; scans with the same key are incremental to each other. */
  readonly cacheKey?: string;
  readonly exclude?: (path: ByteString) => boolean;
  readonly onProgress?: (p: Readonly<ScanProgress>) => void;
}

function sameStat(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

export async function scanDirectory(
  store: Store,
  root: string,
  opts: SnapshotOptions = {},
): Promise<ScanResult> {
  let st: BigIntStats;
  try {
    st = await lstat(root, { bigint: true });
  } catch (err) {
    throw new TetherError(
      'EUSAGE',
      `cannot snapshot ${root}: ${(err as Error).message}; give an existing directory`,
      { root },
      { cause: err },
    );
  }
  if (!st.isDirectory()) {
    throw new TetherError('EUSAGE', `cannot snapshot ${root}: it is not a directory`, { root });
  }
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const cache =
    opts.cacheKey === undefined
      ? undefined
      : new StatCache(store.db('statcache:' + opts.cacheKey), startNs);
  const p: ScanProgress = { files: 0, bytes: 0, hashedFiles: 0, hashedBytes: 0 };
  let last = 0;
  const progress = (): void => {
    const now = Date.now();
    if (opts.onProgress !== undefined && now - last > 100) {
      last = now;
      opts.onProgress(p);
    }
  };

  // A store kept inside the directory it snapshots is not part of the snapshot.
  const rel = relative(resolve(root), resolve(store.dir));
  const own = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? fromText(rel) : undefined;

  const roots = store.db('statcache-roots');
  const rootKey = opts.cacheKey === undefined ? undefined : Buffer.from(opts.cacheKey);
  const lastRaw = rootKey === undefined ? undefined : asBytes(roots.get(rootKey));
  const lastTree = lastRaw?.length === 32 ? lastRaw.toString('hex') : undefined;
  const count = (st: BigIntStats): void => {
    p.files++;
    p.bytes += Number(st.size);
    progress();
  };

  const id = await scanReplica(store, root, {
    content: 'hash',
    trustStamps: false,
    exclude: (path) => path === own || opts.exclude?.(path) === true,
    ...(lastTree !== undefined && store.has(lastTree) ? { known: [lastTree] } : {}),
    // Unchanged since the last scan with this cache key: the old entry is taken whole.
    reuseKnown: (path, fst, k) => {
      const hit = cache?.lookup(path, fst) === k.id && store.hasBlob(k.id!);
      if (hit) count(fst);
      return hit;
    },
    knownId: (path, fst) => {
      count(fst);
      const known = cache?.lookup(path, fst);
      return known !== undefined && store.hasBlob(known) ? known : undefined;
    },
    read: async (abs, path, before) => {
      // The stat taken on the open file after reading it: any write meanwhile shows.
      const { id: blob, size, stat: after } = await store.putBlobFile(abs, Number(before.size));
      if (!sameStat(before, after) || BigInt(size) !== before.size) {
        throw new TetherError(
          'ECHANGED',
          `${display(path)} in ${root} changed while it was read; ` +
            'run the snapshot again when it is not being written',
          { path: display(path) },
        );
      }
      p.hashedFiles++;
      p.hashedBytes += size;
      cache?.record(path, before, blob);
      progress();
      return blob;
    },
  });
  if (rootKey !== undefined) void roots.put(rootKey, Buffer.from(id, 'hex'));
  await cache?.flush();
  await store.flush();
  opts.onProgress?.(p);
  return { id, ...p };
}

// Snapshot of a directory: walk it (the one walker, src/scan/scan-replica.ts), store every
// file's content in the store and return the tree id. Incremental through the scan cache (one
// per cache key, a directory's path): a directory whose listing is unchanged since the last
// scan is not looked into further, and a file whose stat (size, mtime, ctime, inode, device)
// is unchanged is not read again. Reads run in parallel inside the walker; hashing is native.
// Files with several names in the directory are recorded as hard-link groups (links.ts).
import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { TetherError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { FileStat } from './list-dir.js';
import type { PathProblem } from './path-problem.js';
import { scanReplica, type HeldRecords } from './scan-replica.js';
import { LinkFinder, withLinks } from './links.js';
import { display, fromText, type ByteString, type Hash } from '../tree/index.js';

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
  /** Paths left out (byte strings relative to the root). */
  readonly exclude?: readonly ByteString[];
  readonly onProgress?: (p: Readonly<ScanProgress>) => void;
  /** Hold the scan cache's records back, to write them with the snapshot's ref. */
  readonly hold?: HeldRecords;
  /**
   * Collects paths that could not be read (left out of the snapshot, which records the rest);
   * without it, such a path stops the snapshot.
   */
  readonly problems?: PathProblem[];
}

function sameStat(a: FileStat, b: BigIntStats): boolean {
  return (
    BigInt(a.size) === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino
  );
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
  const exclude = new Set(opts.exclude ?? []);
  if (own !== undefined) exclude.add(own);

  const links = new LinkFinder(exclude);
  const scanned = await scanReplica(store, root, {
    content: 'hash',
    exclude,
    startNs,
    ...(opts.cacheKey === undefined ? {} : { cache: store.cacheDb('scan:' + opts.cacheKey) }),
    ...(opts.hold === undefined ? {} : { hold: opts.hold }),
    ...(opts.problems === undefined ? {} : { problems: opts.problems }),
    onListing: (dir, list) => {
      links.see(dir, list);
    },
    onFiles: (files, bytes) => {
      p.files += files;
      p.bytes += bytes;
      progress();
    },
    read: async (abs, path, before) => {
      // The stat taken on the open file after reading it: any write meanwhile shows.
      const { id: blob, size, stat: after } = await store.putBlobFile(abs, before.size);
      if (!sameStat(before, after) || size !== before.size) {
        throw new TetherError(
          'ECHANGED',
          `${display(path)} in ${root} changed while it was read; ` +
            'run the snapshot again when it is not being written',
          { path: display(path), pathProblem: true },
        );
      }
      p.hashedFiles++;
      p.hashedBytes += size;
      progress();
      return blob;
    },
  });
  const id = withLinks(store, scanned, links.keys());
  await store.flush();
  opts.onProgress?.(p);
  return { id, ...p };
}

// Two local directories as the sync engine's sides: the local replica scanned with content
// ids (its contents kept in the store, the base of later text merges), the server replica by
// stamps (DESIGN decision 4), each through its own scan cache.
import { DirReplica } from '../replica/dir.js';
import { learnIds, scanReplica, type ScanOptions } from '../scan/scan-replica.js';
import { LinkFinder, withLinks } from '../scan/links.js';
import type { Store } from '../store/store.js';
import type { Hash } from '../tree/index.js';
import type { ScanRequest, Side } from './engine/ports.js';

export interface DirSideOptions {
  /** Timestamp granularity of the directory's file system (stamp.ts). */
  readonly mtimeWindowNs: bigint;
  /** Keep and use the scan cache (a dry run never does). */
  readonly scanCache: boolean;
}

/** Options every scan of a directory side takes from the engine's request. */
function common(req: ScanRequest, opts: DirSideOptions, cacheName: string, store: Store) {
  const caching = !req.dry && opts.scanCache;
  return {
    base: req.base,
    known: req.known,
    removeTemps: !req.dry,
    mtimeWindowNs: opts.mtimeWindowNs,
    startNs: req.startNs,
    ...(req.problems === undefined ? {} : { problems: req.problems }),
    ...(caching ? { cache: store.cacheDb(cacheName), hold: req.hold } : {}),
    ...(req.lastRunNs === undefined ? {} : { racySinceNs: req.lastRunNs - opts.mtimeWindowNs }),
  };
}

/**
 * A scan whose tree records hard-link groups (links.ts), found in the listings it makes; the
 * scan cache keeps the tree without them.
 */
async function scanLinked(
  store: Store,
  exclude: ReadonlySet<string>,
  scan: (onListing: NonNullable<ScanOptions['onListing']>) => Promise<Hash>,
): Promise<Hash> {
  const links = new LinkFinder(exclude);
  const id = await scan((dir, list) => {
    links.see(dir, list);
  });
  return withLinks(store, id, links.keys());
}

/** The local directory: every file hashed, its content kept in the store. */
export function localDirSide(
  store: Store,
  root: string,
  opts: DirSideOptions & { placeholder?: ScanOptions['placeholder'] },
): Side {
  return {
    // Stamps of the local replica are not trusted: a known id is checked by reading.
    replica: new DirReplica(root, 'local', opts.mtimeWindowNs, true, opts.placeholder),
    where: root,
    scan: (req): Promise<Hash> =>
      scanLinked(store, req.exclude, (onListing) =>
        scanReplica(store, root, {
          content: 'hash',
          ...common(req, opts, 'sync-local', store),
          exclude: req.exclude,
          ...(opts.placeholder === undefined ? {} : { placeholder: opts.placeholder }),
          read: async (abs, _path, st) => (await store.putBlobFile(abs, st.size)).id,
          onListing,
        }),
      ),
  };
}

/** The server directory: known by stamps, ids lent from base and the last scan. */
export function serverDirSide(
  store: Store,
  root: string,
  opts: DirSideOptions & { stableStat: boolean },
): Side {
  return {
    replica: new DirReplica(root, 'server', opts.mtimeWindowNs),
    where: root,
    // Inode numbers show hard links only where they are stable (not over sshfs).
    linksSeen: opts.stableStat,
    scan: (req): Promise<Hash> => {
      const scan = (onListing?: ScanOptions['onListing']): Promise<Hash> =>
        scanReplica(store, root, {
          content: 'stamp',
          ...common(req, opts, 'sync-server', store),
          stableStat: opts.stableStat,
          ...(onListing === undefined ? {} : { onListing }),
        });
      return opts.stableStat ? scanLinked(store, req.exclude, scan) : scan();
    },
    learn: async (scanned, hashed, hold) => {
      if (opts.scanCache)
        await learnIds(store, store.cacheDb('sync-server'), scanned, hashed, hold);
    },
  };
}

// What a scan is told (ScanOptions), what it needs of the store, and the cache records it can
// hold back for its caller to write with the ref that names the scanned tree.
import type { Path } from '../merge/plan.js';
import type { Entry, Hash } from '../tree/index.js';
import type { ObjectStore } from '../store/types.js';
import type { TreeStore } from '../merge/base-update.js';
import type { KvDb } from '../store/kv.js';
import type { DirListing, FileStat } from './list-dir.js';
import type { PathProblem } from './path-problem.js';
import type { Lister } from './lister.js';

export interface ScanOptions {
  readonly content: 'hash' | 'stamp';
  /** The base tree: ids of unchanged files, and the mtime an entry inside the window takes. */
  readonly base?: Hash;
  /** Further trees whose ids may be reused for files with an equal stamp (the last scan). */
  readonly known?: readonly Hash[];
  /** Paths left out of the scan (recorded conflict variants, a store inside the root). */
  readonly exclude?: ReadonlySet<Path>;
  /**
   * Collects per-path problems (path-problem.ts): a path that cannot be listed or read is left
   * as base has it (absent where base has nothing there) and said here. Without it, such a path
   * stops the scan. The root's listing always does.
   */
  readonly problems?: PathProblem[];
  /** Called per entry looked at one by one (not for directories the cache vouches for). */
  readonly onEntry?: (path: Path) => void;
  /** Called per directory with the number and bytes of the regular files in it. */
  readonly onFiles?: (files: number, bytes: number) => void;
  /** What the scan reads the replica through (default: the local directory at the root). */
  readonly lister?: Lister;
  /** Reads a file whose id is not known: by default hashes it; a snapshot stores it too. */
  readonly read?: (p: Buffer, path: Path, st: FileStat) => Promise<Hash>;
  /** Delete temporary files a killed run left behind (only while holding the sync lock). */
  readonly removeTemps?: boolean;
  /**
   * Files with an mtime at or after this are read even in 'stamp' mode: they changed too close
   * to the last run for their stamp to tell (on a filesystem with whole-second times, an edit
   * in the same second as the last sync leaves the stamp as it was).
   */
  readonly racySinceNs?: bigint;
  /**
   * The replica keeps ctime and inode numbers (a local file system, not sshfs, NFS or SMB):
   * in a 'stamp' scan, a file whose size and mtime are what the last scan listed but whose
   * ctime or inode changed (rewritten with its mtime put back, or swapped) is read.
   */
  readonly stableStat?: boolean;
  /** How far apart two mtimes may be and still be the same (the replica's granularity). */
  readonly mtimeWindowNs?: bigint;
  /** Read user.* xattrs of files and directories (default true). */
  readonly xattrs?: boolean;
  /** The scan cache of this root and mode (a database of its own; see the header). */
  readonly cache?: KvDb;
  /** The scan's start (ns since the epoch; default now): entries modified after it less a
   * margin are not vouched for by the cache next time. */
  readonly startNs?: bigint;
  /** Hold the cache records back for the caller to write with its ref (see HeldRecords). */
  readonly hold?: HeldRecords;
  /**
   * Files whose content was never fetched (a mount's placeholders: sparse files of base's
   * size and mtime). Such a file is base's entry, but for the mode and owner the listing has:
   * its bytes are never read (MERGE.md rule P: never fetched is never a change). The hook
   * answers true for base's own file at this path; an entry for a placeholder renamed from
   * elsewhere (its content is that entry's, its name and owner the listing's); null for one
   * whose content is not known at all, left out of the tree (its zeros are no content).
   */
  readonly placeholder?: (path: Path, st: { readonly ino: bigint }) => boolean | Entry | null;
  /**
   * Called with every directory's listing, the unchanged ones the cache vouches for too (a
   * snapshot finds hard-link groups in them: links.ts). Excluded names and temp files are in it.
   */
  readonly onListing?: (dir: Path, list: DirListing) => void;
}

/**
 * Cache records a scan made, held back to be written in the transaction that moves the ref
 * naming the scanned tree (one commit, not one more per scan): \`write\` puts them (putSync),
 * to be run inside a transaction made after the store's flush (setRef's or setRefs'
 * \`alongside\`). Never written, they are only a missed shortcut.
 */
export class HeldRecords {
  private readonly byKey = new Map<string, [Buffer, Buffer]>();
  private cache: KvDb | undefined;

  /** The records of a scan of \`cache\`'s root (one cache per holder). */
  adopt(cache: KvDb, records: readonly [Buffer, Buffer][]): void {
    if (this.cache !== undefined && this.cache !== cache) {
      throw new Error('HeldRecords: one holder holds the records of one cache');
    }
    this.cache = cache;
    for (const [k, v] of records) this.set(k, v);
  }

  set(k: Buffer, v: Buffer): void {
    this.byKey.set(k.toString('latin1'), [k, v]);
  }

  get(k: Buffer): Buffer | undefined {
    return this.byKey.get(k.toString('latin1'))?.[1];
  }

  /** Put them all (a function of its own: pass it as it is, as \`alongside\`). */
  readonly write = (): void => {
    const cache = this.cache;
    if (cache === undefined) return;
    for (const [k, v] of this.byKey.values()) cache.putSync(k, v);
  };
}

/** What a scan needs of the store. */
export type ScanStore = TreeStore &
  Pick<ObjectStore, 'has' | 'treeBytes' | 'putTreeBytes'> & { flush?: () => Promise<void> };

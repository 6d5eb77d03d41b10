// The Lister port: everything a scan asks of the replica it scans, by path from the replica's
// root, and every call asynchronous — on a network share that hangs, a scan waits, while the
// event loop (a daemon's FUSE requests, its deadlines) goes on. The local-directory lister
// lists each directory in one native call on a worker thread (list-dir.ts) where the helper is
// built; the remote agent's Lister (agent/lister.ts) makes each call in the agent, with a
// deadline.
import { readlink, unlink } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { byteString, type ByteString, type Hash, type Xattr } from '../tree/index.js';
import { fsPath, hashFile } from './fs-entry.js';
import { listDirAsync, type DirListing, type EarlierListing } from './list-dir.js';
import { readXattrs } from './xattrs.js';

export interface Lister {
  /** The directory's entries and their lstat fields (throws the system error, with its code). */
  list(dir: Path, xattrs: boolean, old?: EarlierListing): Promise<DirListing>;
  /** A symlink's target, as bytes. */
  readlink(path: Path): Promise<ByteString>;
  /** The user.* attributes of a file or directory (undefined: none). */
  xattrs(path: Path): Promise<Xattr[] | undefined>;
  /** The content id of the file, read now. */
  hash(path: Path): Promise<Hash>;
  /** Remove a temporary file a killed run left behind (gone already is fine). */
  removeTemp(path: Path): Promise<void>;
  /**
   * The path as this process's file system names it, for a caller's own reads (a snapshot
   * stores content as it hashes it: ScanOptions.read). Only a lister of a path this process
   * may read has it: a remote agent's (agent/lister.ts) does not.
   */
  readonly reach?: (path: Path) => Buffer;
}

/** The Lister of a local directory tree (or one a network file system mounts). */
export function dirLister(root: string): Lister {
  const rootBuf = Buffer.from(root);
  const at = (path: Path): Buffer => fsPath(rootBuf, path);
  return {
    list: (dir, xattrs, old) => listDirAsync(at(dir), xattrs, old),
    readlink: async (path) => byteString(await readlink(at(path), { encoding: 'buffer' })),
    xattrs: (path) => readXattrs(at(path)),
    hash: (path) => hashFile(at(path)),
    removeTemp: async (path) => {
      await unlink(at(path)).catch(() => undefined);
    },
    reach: at,
  };
}

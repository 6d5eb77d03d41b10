// The first mount of a volume: scan the remote by stamps (no content read; in a daemon the
// remote agent makes the scan, with its deadlines: remote-io.ts), make that tree
// base, and build the local view from it: directories and symlinks as themselves, every
// regular file a placeholder (a sparse file of the right size, mode and mtime, recorded as
// such). Base and the placeholder records are committed together, last: a mount killed before
// that starts again from an empty view, and no user write can have happened before it (the
// mount is not up yet).
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { joinPath, type Hash } from '../tree/index.js';
import { fsPath } from '../scan/fs-entry.js';
import { REF_BASE, REF_SERVER } from '../store/kv.js';
import { scanReplica } from '../scan/scan-replica.js';
import { timeArg } from '../scan/stamp.js';
import { setXattrs } from '../scan/xattrs.js';
import type { Xattr } from '../tree/index.js';
import type { Placeholders } from './placeholders.js';

export interface Materialised {
  readonly files: number;
  readonly dirs: number;
}

/** Scans the remote by stamps into the store: the tree's id. */
export type FirstScan = () => Promise<Hash>;

/** The first scan made in this process (a volume opened without a daemon's agent). */
export const scanHere =
  (store: Store, remote: string): FirstScan =>
  () =>
    scanReplica(store, remote, { content: 'stamp' });

export async function materialise(
  store: Store,
  scan: FirstScan,
  local: string,
  placeholders: Placeholders,
): Promise<Materialised> {
  // The scan first: a server that fails it leaves the view as it was.
  const tree = await scan();
  await rm(local, { recursive: true, force: true });
  await mkdir(local, { mode: 0o755 });
  const root = Buffer.from(local);
  const records: [Path, bigint][] = [];
  const asRoot = process.getuid?.() === 0;
  const withXattrs: [Buffer, readonly Xattr[]][] = [];
  let files = 0;
  let dirs = 0;

  // Synchronous calls: nothing else runs yet (the mount is not up), and a thread-pool round
  // trip per call would cost more than the call itself on a local disk.
  const build = (dir: Path, id: Hash): void => {
    for (const e of store.readTree(id)) {
      const path = joinPath(dir, e.name);
      const p = fsPath(root, path);
      const t = timeArg(e.mtimeNs);
      switch (e.kind) {
        case 'dir':
          dirs++;
          mkdirSync(p, { mode: e.mode });
          if (e.id !== undefined) build(path, e.id);
          if (e.xattrs !== undefined) withXattrs.push([p, e.xattrs]);
          if (asRoot) lchownSync(p, e.uid, e.gid);
          utimesSync(p, t, t);
          break;
        case 'file': {
          files++;
          const fd = openSync(p, 'wx', e.mode);
          try {
            ftruncateSync(fd, e.size);
            // chown first: it clears set-id bits that chmod then sets.
            if (asRoot) fchownSync(fd, e.uid, e.gid);
            fchmodSync(fd, e.mode);
            futimesSync(fd, t, t);
            records.push([path, fstatSync(fd, { bigint: true }).ino]);
          } finally {
            closeSync(fd);
          }
          if (e.xattrs !== undefined) withXattrs.push([p, e.xattrs]);
          break;
        }
        case 'symlink':
          symlinkSync(Buffer.from(e.target ?? '', 'latin1'), p);
          if (asRoot) lchownSync(p, e.uid, e.gid);
          lutimesSync(p, t, t);
          break;
        default:
          // Special files are recorded, never made on the other side (MERGE.md rule T).
          break;
      }
    }
  };
  build('', tree);
  for (const [p, x] of withXattrs) await setXattrs(p, x);
  await store.setRefs({ [REF_BASE]: tree, [REF_SERVER]: tree }, () => {
    for (const [path, ino] of records) placeholders.addSync(path, ino);
  });
  return { files, dirs };
}

// The first mount of a volume: scan the remote by stamps (no content read), make that tree
// base, and build the local view from it: directories and symlinks as themselves, every
// regular file a placeholder (a sparse file of the right size, mode and mtime, recorded as
// such). Base and the placeholder records are committed together, last: a mount killed before
// that starts again from an empty view, and no user write can have happened before it (the
// mount is not up yet).
import { lchown, mkdir, open, rm, symlink, utimes, lutimes } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { joinPath, type Hash } from '../tree/index.js';
import { fsPath } from '../sync/fs-entry.js';
import { REF_BASE, REF_SERVER } from '../sync/ports.js';
import { scanReplica } from '../sync/scan-replica.js';
import { timeArg } from '../sync/stamp.js';
import { setXattrs } from '../sync/xattrs.js';
import type { Placeholders } from './placeholders.js';

export interface Materialised {
  readonly files: number;
  readonly dirs: number;
}

export async function materialise(
  store: Store,
  remote: string,
  local: string,
  placeholders: Placeholders,
): Promise<Materialised> {
  await rm(local, { recursive: true, force: true });
  await mkdir(local, { mode: 0o755 });
  const tree = await scanReplica(store, remote, { content: 'stamp' });
  const root = Buffer.from(local);
  const records: [Path, bigint][] = [];
  const asRoot = process.getuid?.() === 0;
  let files = 0;
  let dirs = 0;

  const build = async (dir: Path, id: Hash): Promise<void> => {
    for (const e of store.readTree(id)) {
      const path = joinPath(dir, e.name);
      const p = fsPath(root, path);
      const t = timeArg(e.mtimeNs);
      switch (e.kind) {
        case 'dir':
          dirs++;
          await mkdir(p, { mode: e.mode });
          if (e.id !== undefined) await build(path, e.id);
          await setXattrs(p, e.xattrs);
          if (asRoot) await lchown(p, e.uid, e.gid);
          await utimes(p, t, t);
          break;
        case 'file': {
          files++;
          const fh = await open(p, 'wx', e.mode);
          try {
            await fh.truncate(e.size);
            await fh.chmod(e.mode);
            records.push([path, (await fh.stat({ bigint: true })).ino]);
          } finally {
            await fh.close();
          }
          await setXattrs(p, e.xattrs);
          if (asRoot) await lchown(p, e.uid, e.gid);
          await utimes(p, t, t);
          break;
        }
        case 'symlink':
          await symlink(Buffer.from(e.target ?? '', 'latin1'), p);
          if (asRoot) await lchown(p, e.uid, e.gid);
          await lutimes(p, t, t);
          break;
        default:
          // Special files are recorded, never made on the other side (MERGE.md rule T).
          break;
      }
    }
  };
  await build('', tree);
  await store.setRefs({ [REF_BASE]: tree, [REF_SERVER]: tree }, () => {
    for (const [path, ino] of records) placeholders.addSync(path, ino);
  });
  return { files, dirs };
}

// Snapshots of a mounted volume, taken by its daemon (the store's one writer): the local view's
// tree composed from base and the changed-path list (local-tree.ts), named like a directory
// snapshot (store/snapshots.ts). Nothing is read through the mount, and nothing needs the
// remote, so a snapshot works offline. The daemon also answers for the trees `tether diff`
// compares (the local view, a plain directory scanned into the store).
import { performance } from 'node:perf_hooks';
import { TetherError } from '../errors.js';
import { scanDirectory } from '../scan/index.js';
import { checkNameFree, removeSnapshot, saveSnapshot } from '../store/snapshots.js';
import { unreachable } from '../store/gc.js';
import type { ChangedPaths } from './changed-paths.js';
import { locate } from './find.js';
import { localTree, type LocalTree } from './local-tree.js';
import { request, type Request } from './control.js';
import type { Volume } from './volume.js';

/** Told by a process that took or removed a snapshot in a mounted volume's store itself. */
const SNAPSHOTS_CHANGED_OP = 'snapshots-changed';

/**
 * Tell the daemon of `storeDir`, if one serves it, that its snapshots changed: its mount shows
 * them (`.tether/snapshots`) as they are now once this returns. No daemon: nothing to tell.
 */
export async function tellSnapshotsChanged(storeDir: string): Promise<void> {
  await request(storeDir, { op: SNAPSHOTS_CHANGED_OP }, 5000).catch(() => undefined);
}

export class VolumeSnapshots {
  constructor(
    private readonly v: Volume,
    private readonly changed: ChangedPaths,
    private readonly mountpoint: string,
  ) {}

  /** The local view's tree now (between syncs). */
  local(): Promise<LocalTree> {
    return this.v.between(() => localTree(this.v, this.changed));
  }

  async take(name: string, force: boolean): Promise<Record<string, unknown>> {
    const t0 = performance.now();
    return this.v.between(async () => {
      if (!force) checkNameFree(this.v.store, name);
      const t1 = performance.now();
      const t = await localTree(this.v, this.changed, false);
      const t2 = performance.now();
      const { files, bytes } = this.v.totals.of(this.v.store, t.id);
      const takenAt = new Date().toISOString();
      const t3 = performance.now();
      await saveSnapshot(
        this.v.store,
        { name, id: t.id, of: this.mountpoint, takenAt, files, bytes },
        force,
      );
      const t4 = performance.now();
      // Where the time went (ms): waiting for a sync to finish, composing, counting, saving.
      const phases = { wait: t1 - t0, compose: t2 - t1, count: t3 - t2, save: t4 - t3 };
      return { name, ...t, files, bytes, mode: this.v.mode, ms: t4 - t0, phases };
    });
  }

  async remove(name: string): Promise<Record<string, unknown>> {
    return this.v.between(async () => {
      await removeSnapshot(this.v.store, name);
      const free = await unreachable(this.v.store);
      return { name, freeCount: free.count, freeBytes: free.bytes };
    });
  }

  /** A plain directory (never a tether mount) scanned into the store, for a diff. */
  async scanDir(dir: string): Promise<Record<string, unknown>> {
    if (locate(dir) !== undefined) {
      throw new TetherError(
        'EUSAGE',
        `${dir} is inside a tether mount: name the mount itself, not a directory to scan`,
      );
    }
    return this.v.between(async () => {
      const r = await scanDirectory(this.v.store, dir, { cacheKey: 'dir:' + dir });
      await this.v.store.setRef('volume/scanned', r.id);
      return { id: r.id };
    });
  }

  /** The control requests about snapshots; undefined for any other. */
  async control(req: Request): Promise<Record<string, unknown> | undefined> {
    const text = (k: string): string => {
      const s = req[k];
      if (typeof s !== 'string' || s === '') throw new TetherError('EUSAGE', `"${k}" is missing`);
      return s;
    };
    switch (req.op) {
      case 'snapshot-take':
        return this.take(text('name'), req['force'] === true);
      case 'snapshot-rm':
        return this.remove(text('name'));
      case 'local-tree':
        return { ...(await this.local()) };
      case 'scan-dir':
        return this.scanDir(text('dir'));
      case SNAPSHOTS_CHANGED_OP:
        return {};
      default:
        return undefined;
    }
  }
}

// `tether snapshot take NAME --of DIR`: snapshot a directory into the store, incrementally.
// `tether snapshot take NAME MOUNTPOINT`: the volume's daemon snapshots its local view.
import { resolve } from 'node:path';
import { Command, Option } from 'clipanion';
import { TetherError } from '../src/errors.js';
import { scanDirectory } from '../src/scan/index.js';
import type { PathProblem } from '../src/scan/path-problem.js';
import { HeldRecords } from '../src/scan/scan-replica.js';
import { display } from '../src/tree/index.js';
import { checkNameFree, saveSnapshot } from '../src/store/snapshots.js';
import type { Store } from '../src/store/store.js';
import { releaseSyncLock, takeSyncLock } from '../src/sync/lock.js';
import { checkSnapshotName, resolveStore, storeOption, TetherCommand, withStore } from './base.js';
import { formatBytes } from './format.js';
import type { Located } from './volume.js';
import { progress } from './progress.js';
import { hoardAndWait } from './hoard-wait.js';
import { mountedAt, takeOfVolume } from './volume-store.js';
import { tellSnapshotsChanged } from '../src/volume/volume-snapshots.js';

export class SnapshotTakeCommand extends TetherCommand {
  static override paths = [['snapshot', 'take']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'snapshot a directory (contents and metadata) under a name',
    details: `
      Walks DIR (the current directory without --of) and stores every file's content and
      metadata in the store. Incremental: a file whose size, mtime, ctime, inode and device
      match the last snapshot of the same directory is not read again. The store is created if
      it does not exist.

      Given a tether mount point (or a path inside one), as MOUNTPOINT or as --of, the
      volume's daemon snapshots what the mount shows (base and every local change, offline
      too) into the volume's store, reading only the files changed since base; nothing is
      read through the mount. Files never fetched are recorded by their id alone: restore and
      show need their content, so \`--fetch\` (online) first fetches every such file into the
      store, with progress, through the volume's ordinary fetch and its deadlines. It is not
      the default: on a large volume it reads everything the cache does not hold yet.
    `,
    examples: [
      ['Snapshot ./project as v1', '$0 snapshot take v1 --of ./project --store ./store'],
      ['Snapshot a mounted volume (online or offline)', '$0 snapshot take before-edit ~/work'],
      ['With every file fetched first', '$0 snapshot take whole ~/work --fetch'],
    ],
  });

  name = Option.String({ required: true });
  mountpoint = Option.String({ name: 'MOUNTPOINT', required: false });
  of = Option.String('--of', '.', { description: 'Directory to snapshot (default: .)' });
  force = Option.Boolean('--force', false, { description: 'Replace a snapshot of the same name' });
  asJson = Option.Boolean('--json', false, { description: 'Print the result as JSON' });
  strict = Option.Boolean('--strict', false, {
    description:
      'Refuse the snapshot if a path cannot be read (default: leave it out, say so, exit 1)',
  });
  fetch = Option.Boolean('--fetch', false, {
    description: 'Of a mounted volume (online): fetch the files never fetched first',
  });
  store = storeOption();

  async execute(): Promise<number> {
    const name = checkSnapshotName(this.name);
    const volume = mountedAt(this.mountpoint ?? this.of);
    if (volume !== undefined) return this.takeVolume(name, volume);
    if (this.fetch) {
      throw new TetherError(
        'EUSAGE',
        '--fetch is for a mounted volume: a directory snapshot reads every file anyway',
      );
    }
    if (this.mountpoint !== undefined) {
      throw new TetherError(
        'EUSAGE',
        `${this.mountpoint} is not in a tether mount: snapshot a directory with --of DIR`,
      );
    }
    const dir = resolve(this.of);
    const t0 = performance.now();
    return withStore(
      resolveStore(this.store),
      async (store) => {
        if (!this.force) checkNameFree(store, name);
        // Held while the scan stores objects that no ref names yet, so gc cannot free them.
        await takeSyncLock(store.dir, 'tether snapshot take');
        try {
          return await this.take(store, name, dir, t0);
        } finally {
          await releaseSyncLock(store.dir);
        }
      },
      true,
    );
  }

  private async takeVolume(name: string, l: Located): Promise<number> {
    if (this.store !== undefined) {
      throw new TetherError('EUSAGE', `a volume's snapshots go to its own store: drop --store`);
    }
    if (this.fetch) {
      const s = await hoardAndWait({ ...l, path: '' }, [''], (total) =>
        progress('fetch', 'files', total),
      ).catch((err: unknown) => {
        if (!/offline/.test((err as Error).message)) throw err;
        throw new TetherError(
          'EUSAGE',
          `${l.mountpoint} is offline: --fetch needs the server. Run "tether online ${l.mountpoint}" ` +
            'first, or take the snapshot without --fetch (files never fetched are then recorded ' +
            'by their id alone, and restore names them)',
        );
      });
      if (s.stopped !== undefined) {
        throw new TetherError(
          'EIO',
          `the fetch stopped: ${s.stopped}; no snapshot was taken: make room, or take it without --fetch`,
          { stopped: s.stopped },
        );
      }
      if (s.failed > 0) {
        throw new TetherError(
          'EIO',
          `${s.failed} of ${s.total} files could not be fetched (${s.lastError ?? 'no reason given'}); ` +
            'no snapshot was taken: run the command again, or take it without --fetch',
          { failed: s.failed },
        );
      }
    }
    const r = await takeOfVolume(l, name, this.force);
    if (this.asJson) this.json({ mountpoint: l.mountpoint, ...r });
    else {
      const n = (k: string): number => Number(r[k] ?? 0);
      this.out(
        `snapshot ${name} of ${l.mountpoint} (${String(r['mode'])}): ${n('files')} files, ` +
          `${formatBytes(n('bytes'))} (${n('hashedFiles')} read, ${formatBytes(n('hashedBytes'))}) ` +
          `in ${(n('ms') / 1000).toFixed(3)} s, tree ${String(r['id']).slice(0, 12)}`,
      );
    }
    return 0;
  }

  private async take(store: Store, name: string, dir: string, t0: number): Promise<number> {
    const bar = progress('snapshot', 'files');
    const records = new HeldRecords();
    const problems: PathProblem[] = [];
    const r = await scanDirectory(store, dir, {
      cacheKey: 'dir:' + dir,
      hold: records,
      ...(this.strict ? {} : { problems }),
      onProgress: (p) => {
        bar.update(p.files, `${formatBytes(p.hashedBytes)} read`);
      },
    }).finally(() => {
      bar.stop();
    });
    await saveSnapshot(
      store,
      {
        name,
        id: r.id,
        of: dir,
        takenAt: new Date().toISOString(),
        files: r.files,
        bytes: r.bytes,
      },
      this.force,
      records.write,
    );
    // A mounted volume's store: its daemon shows the new name in `.tether/snapshots` at once.
    await tellSnapshotsChanged(store.dir);
    const ms = performance.now() - t0;
    const leftOut = problems.map((p) => ({ path: display(p.path), reason: p.reason }));
    if (this.asJson) this.json({ name, ...r, leftOut, ms: Math.round(ms) });
    else {
      for (const p of problems) this.out(`left out: ${p.reason}`);
      this.out(
        `snapshot ${name}: ${r.files} files, ${formatBytes(r.bytes)} ` +
          `(${r.hashedFiles} read, ${formatBytes(r.hashedBytes)}) in ${(ms / 1000).toFixed(2)} s, tree ${r.id.slice(0, 12)}` +
          (problems.length > 0 ? `; ${problems.length} paths left out` : ''),
      );
    }
    return problems.length > 0 ? 1 : 0;
  }
}

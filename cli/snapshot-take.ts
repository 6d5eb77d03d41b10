// `tether snapshot take NAME --of DIR`: snapshot a directory into the store, incrementally.
import { resolve } from 'node:path';
import { Command, Option } from 'clipanion';
import { scanDirectory } from '../src/scan/index.js';
import type { PathProblem } from '../src/scan/path-problem.js';
import { HeldRecords } from '../src/scan/scan-replica.js';
import { display } from '../src/tree/index.js';
import { checkNameFree, saveSnapshot } from '../src/store/snapshots.js';
import type { Store } from '../src/store/store.js';
import { releaseSyncLock, takeSyncLock } from '../src/sync/lock.js';
import { checkSnapshotName, resolveStore, storeOption, TetherCommand, withStore } from './base.js';
import { formatBytes } from './format.js';
import { progress } from './progress.js';

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
    `,
    examples: [['Snapshot ./project as v1', '$0 snapshot take v1 --of ./project --store ./store']],
  });

  name = Option.String({ required: true });
  of = Option.String('--of', '.', { description: 'Directory to snapshot (default: .)' });
  force = Option.Boolean('--force', false, { description: 'Replace a snapshot of the same name' });
  asJson = Option.Boolean('--json', false, { description: 'Print the result as JSON' });
  strict = Option.Boolean('--strict', false, {
    description:
      'Refuse the snapshot if a path cannot be read (default: leave it out, say so, exit 1)',
  });
  store = storeOption();

  async execute(): Promise<number> {
    const name = checkSnapshotName(this.name);
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

// `tether snapshot restore NAME DIR`: write a snapshot out to a new or empty directory.
import { resolve } from 'node:path';
import { Command, Option } from 'clipanion';
import { restoreTree } from '../src/replica/restore.js';
import { snapshotTree, storeOption, TetherCommand } from './base.js';
import { formatBytes } from './format.js';
import { progress, type Progress } from './progress.js';
import { withReadStore } from './volume-store.js';

export class SnapshotRestoreCommand extends TetherCommand {
  static override paths = [['snapshot', 'restore']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'write a snapshot out to a new or empty directory',
    details: `
      Writes every path of the snapshot into DIR (made if it does not exist; refused if it is
      not empty) with its content, mode, times, symbolic link target and user xattrs, and its
      owner when run as root. Every file's content must be in the store (a snapshot of a volume
      names files never fetched by their content only): at the first one missing, the restore
      removes what it wrote, leaving DIR as it was, and names every file missing. Devices and
      sockets are recorded in snapshots but never made.
    `,
    examples: [
      ['From a store', '$0 snapshot restore v1 ./v1-copy --store ./store'],
      ['A mounted volume snapshot', '$0 snapshot restore before-edit /tmp/old --of ~/work'],
    ],
  });

  name = Option.String({ required: true });
  dir = Option.String({ name: 'DIR', required: true });
  of = Option.String('--of', { description: 'The mounted volume whose snapshot it is' });
  asJson = Option.Boolean('--json', false, { description: 'Print the result as JSON' });
  store = storeOption();

  async execute(): Promise<number> {
    const dir = resolve(this.dir);
    const t0 = performance.now();
    return withReadStore(this.store, this.of, async (store) => {
      const root = snapshotTree(store, this.name);
      let bar: Progress | undefined;
      const r = await restoreTree(store, root, dir, (p, total) => {
        bar ??= progress('restore', 'files', total.files);
        bar.update(p.files, formatBytes(p.bytes));
      }).finally(() => bar?.stop());
      const s = (performance.now() - t0) / 1000;
      if (this.asJson) this.json({ name: this.name, dir, ...r, seconds: s });
      else {
        for (const k of r.skipped) this.out(`not made: ${k.path} (${k.reason})`);
        this.out(
          `restored ${this.name} to ${dir}: ${r.files} files, ${formatBytes(r.bytes)}, ` +
            `${r.dirs} directories, ${r.symlinks} symbolic links in ${s.toFixed(2)} s`,
        );
      }
      return 0;
    });
  }
}

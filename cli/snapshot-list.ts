// `tether snapshot list`: the store's snapshots, oldest name first.
import { Command, Option } from 'clipanion';
import { listSnapshots } from '../src/store/snapshots.js';
import { resolveStore, storeOption, TetherCommand, withStore } from './base.js';
import { formatBytes } from './format.js';

export class SnapshotListCommand extends TetherCommand {
  static override paths = [['snapshot', 'list']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'list the snapshots in a store',
    examples: [['List', '$0 snapshot list --store ./store']],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  store = storeOption();

  async execute(): Promise<number> {
    return withStore(resolveStore(this.store), (store) => {
      const list = listSnapshots(store);
      if (this.asJson) this.json(list);
      else if (list.length === 0) this.out('no snapshots');
      else
        for (const s of list) {
          const size =
            s.files === undefined ? '' : `${s.files} files, ${formatBytes(s.bytes ?? 0)}`;
          this.out(
            [s.name, s.id.slice(0, 12), s.takenAt ?? '', size, s.of ?? ''].join('\t').trimEnd(),
          );
        }
      return Promise.resolve(0);
    });
  }
}

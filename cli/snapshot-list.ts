// `tether snapshot list`: the store's snapshots, oldest name first.
import { Command, Option } from 'clipanion';
import { listSnapshots } from '../src/store/snapshots.js';
import { storeOption, TetherCommand } from './base.js';
import { withReadStore } from './volume-store.js';
import { formatBytes } from './format.js';

export class SnapshotListCommand extends TetherCommand {
  static override paths = [['snapshot', 'list']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'list the snapshots in a store',
    examples: [['List', '$0 snapshot list --store ./store']],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  of = Option.String('--of', {
    description: 'A mounted volume (its store, read beside its daemon)',
  });
  store = storeOption();

  async execute(): Promise<number> {
    return withReadStore(this.store, this.of, (store) => {
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

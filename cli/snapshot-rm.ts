// `tether snapshot rm NAME`: forget a snapshot (its objects stay until `tether gc` frees those nothing else refers to).
import { Command, Option } from 'clipanion';
import { unreachable } from '../src/store/gc.js';
import { removeSnapshot } from '../src/store/snapshots.js';
import { formatBytes } from './format.js';
import { resolveStore, storeOption, TetherCommand, withStore } from './base.js';

export class SnapshotRmCommand extends TetherCommand {
  static override paths = [['snapshot', 'rm']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'remove a snapshot',
    examples: [['Remove v1', '$0 snapshot rm v1 --store ./store']],
  });

  name = Option.String({ required: true });
  store = storeOption();

  async execute(): Promise<number> {
    return withStore(resolveStore(this.store), async (store) => {
      await removeSnapshot(store, this.name);
      const free = await unreachable(store);
      this.out(
        `removed snapshot ${this.name}; "tether gc" would now free ${free.count} objects ` +
          `(${formatBytes(free.bytes)})`,
      );
      return 0;
    });
  }
}

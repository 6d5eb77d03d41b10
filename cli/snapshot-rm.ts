// `tether snapshot rm NAME`: forget a snapshot (its objects stay until `tether gc` frees those nothing else refers to).
import { Command, Option } from 'clipanion';
import { unreachable } from '../src/store/gc.js';
import { removeSnapshot } from '../src/store/snapshots.js';
import { TetherError } from '../src/errors.js';
import { tellSnapshotsChanged } from '../src/volume/volume-snapshots.js';
import { formatBytes } from './format.js';
import { ask, LONG_MS, locateOrThrow } from './volume.js';
import { resolveStore, storeOption, TetherCommand, withStore } from './base.js';

export class SnapshotRmCommand extends TetherCommand {
  static override paths = [['snapshot', 'rm']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'remove a snapshot',
    examples: [['Remove v1', '$0 snapshot rm v1 --store ./store']],
  });

  name = Option.String({ required: true });
  of = Option.String('--of', { description: 'A mounted volume (its daemon removes it)' });
  store = storeOption();

  async execute(): Promise<number> {
    if (this.of !== undefined) {
      if (this.store !== undefined)
        throw new TetherError('EUSAGE', 'give --store or --of, not both');
      const l = locateOrThrow(this.of);
      const r = await ask(l, { op: 'snapshot-rm', name: this.name }, LONG_MS);
      this.out(
        `removed snapshot ${this.name}; "tether gc" would now free ${Number(r['freeCount'])} objects ` +
          `(${formatBytes(Number(r['freeBytes']))})`,
      );
      return 0;
    }
    return withStore(resolveStore(this.store), async (store) => {
      await removeSnapshot(store, this.name);
      // A mounted volume's store: its daemon drops the name from `.tether/snapshots` at once.
      await tellSnapshotsChanged(store.dir);
      const free = await unreachable(store);
      this.out(
        `removed snapshot ${this.name}; "tether gc" would now free ${free.count} objects ` +
          `(${formatBytes(free.bytes)})`,
      );
      return 0;
    });
  }
}

// `tether fsck`: verify every object of a store against its id; --repair quarantines.
import { Command, Option } from 'clipanion';
import { fsck } from '../src/store/fsck.js';
import { resolveStore, storeOption, TetherCommand, withStore } from './base.js';
import { progress } from './progress.js';

export class FsckCommand extends TetherCommand {
  static override paths = [['fsck']];
  static override usage = Command.Usage({
    description: 'verify every object in a store against its hash',
    details: `
      Checks every tree and blob against its id, that every tree decodes, and that everything
      reachable from snapshots and sync states is stored. Exit status 0 when the store is
      sound, 1 when problems were found. With --repair, corrupt objects are moved to the
      store's quarantine/ directory (never deleted); the report names the snapshots and sync
      states that reached them.
    `,
    examples: [
      ['Verify', '$0 fsck --store ./store'],
      ['Quarantine what is corrupt', '$0 fsck --store ./store --repair'],
    ],
  });

  repair = Option.Boolean('--repair', false, { description: 'Move corrupt objects to quarantine' });
  asJson = Option.Boolean('--json', false, { description: 'Print the report as JSON' });
  store = storeOption();

  async execute(): Promise<number> {
    return withStore(resolveStore(this.store), async (store) => {
      const bar = progress('fsck', 'objects');
      const r = await fsck(store, {
        repair: this.repair,
        onProgress: (n) => {
          bar.update(n);
        },
      }).finally(() => {
        bar.stop();
      });
      if (this.asJson) this.json(r);
      else {
        for (const p of r.problems) {
          const refs = p.refs.length > 0 ? ` (reached from ${p.refs.join(', ')})` : '';
          const q = p.quarantined === undefined ? '' : `; moved to ${p.quarantined}`;
          this.out(`${p.kind}: ${p.object}: ${p.detail}${refs}${q}`);
        }
        const verdict =
          r.problems.length === 0
            ? 'ok'
            : `${r.problems.length} problems` +
              (r.repaired
                ? ', corrupt objects quarantined'
                : '; run with --repair to quarantine corrupt objects');
        this.out(`${r.trees} trees, ${r.blobs} blobs, ${r.refs} refs checked: ${verdict}`);
      }
      return r.problems.length === 0 ? 0 : 1;
    });
  }
}

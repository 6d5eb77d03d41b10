// `tether unmount MOUNTPOINT`: the daemon flushes what is dirty (online), unmounts and stops;
// a mount whose daemon died is detached. A read-only view's daemon simply stops. The views of
// a volume's store are unmounted with it, first (src/daemon/with-volume.ts).
import { Command, Option } from 'clipanion';
import { resolve } from 'node:path';
import { isViewMount } from '../src/view/find.js';
import { unmountView } from '../src/daemon/view-start.js';
import { unmountViewsOf } from '../src/daemon/with-volume.js';
import { mountAt } from '../src/sync/mounts.js';
import { isTetherMount } from '../src/volume/find.js';
import { FSNAME_PREFIX } from '../src/volume/layout.js';
import { unmountVolume } from '../src/daemon/volume-start.js';
import { TetherCommand } from './base.js';

export class UnmountCommand extends TetherCommand {
  static override paths = [['unmount']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'unmount a volume (flushing first) with its views, and stop their daemons',
    examples: [['Unmount', '$0 unmount ~/work']],
  });

  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  async execute(): Promise<number> {
    const mp = resolve(this.mountpoint);
    const log = (line: string): boolean => this.context.stderr.write(`tether: ${line}\n`);
    const there = mountAt(mp);
    if (there !== undefined && isViewMount(there)) await unmountView(mp, log);
    else {
      if (there !== undefined && isTetherMount(there)) {
        await unmountViewsOf(there.source.slice(FSNAME_PREFIX.length), log);
      }
      await unmountVolume(mp, log);
    }
    this.out(`unmounted ${mp}`);
    return 0;
  }
}

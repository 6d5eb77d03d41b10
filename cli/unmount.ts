// `tether unmount MOUNTPOINT`: the daemon flushes what is dirty (online), unmounts and stops;
// a mount whose daemon died is detached. A read-only view's daemon simply stops.
import { Command, Option } from 'clipanion';
import { resolve } from 'node:path';
import { isViewMount } from '../src/view/find.js';
import { unmountView } from '../src/view/start.js';
import { mountAt } from '../src/volume/find.js';
import { unmountVolume } from '../src/volume/start.js';
import { TetherCommand } from './base.js';

export class UnmountCommand extends TetherCommand {
  static override paths = [['unmount']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'unmount a volume (flushing first) and stop its daemon',
    examples: [['Unmount', '$0 unmount ~/work']],
  });

  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  async execute(): Promise<number> {
    const mp = resolve(this.mountpoint);
    const log = (line: string): boolean => this.context.stderr.write(`tether: ${line}\n`);
    const there = mountAt(mp);
    if (there !== undefined && isViewMount(there)) await unmountView(mp, log);
    else await unmountVolume(mp, log);
    this.out(`unmounted ${mp}`);
    return 0;
  }
}

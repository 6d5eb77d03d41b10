// `tether unmount MOUNTPOINT`: the daemon flushes what is dirty (online), unmounts and stops;
// a mount whose daemon died is detached.
import { Command, Option } from 'clipanion';
import { resolve } from 'node:path';
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
    await unmountVolume(mp, (line) => this.context.stderr.write(`tether: ${line}\n`));
    this.out(`unmounted ${mp}`);
    return 0;
  }
}

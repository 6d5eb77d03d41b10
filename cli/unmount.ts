// `tether unmount MOUNTPOINT`: the daemon flushes what is dirty (online), unmounts and stops;
// a mount whose daemon died is detached. A read-only view's daemon simply stops. The views of
// a volume's store are unmounted with it, first. The body is cli/run/unmount.ts.
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { unmount } from './run/unmount.js';

export class UnmountCommand extends TetherCommand {
  static override paths = [['unmount']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'unmount a volume (flushing first) with its views, and stop their daemons',
    examples: [['Unmount', '$0 unmount ~/work']],
  });

  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  execute(): Promise<number> {
    return unmount(this.mountpoint, this.io, (line) =>
      this.context.stderr.write(`tether: ${line}\n`),
    );
  }
}

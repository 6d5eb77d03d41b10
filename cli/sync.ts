// `tether sync PATH [--dry-run]`: a mounted volume's three-way merge now (cli/run/sync.ts).
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { sync } from './run/sync.js';

export class SyncCommand extends TetherCommand {
  static override paths = [['sync']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'merge a mounted volume with its remote now',
    examples: [
      ['Sync now', '$0 sync ~/work'],
      ['Show the plan only', '$0 sync ~/work --dry-run'],
    ],
  });

  dryRun = Option.Boolean('--dry-run', false, { description: 'Print the plan, change nothing' });
  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  target = Option.String({ name: 'PATH' });

  execute(): Promise<number> {
    return sync(this.target, { dryRun: this.dryRun, asJson: this.asJson }, this.io);
  }
}

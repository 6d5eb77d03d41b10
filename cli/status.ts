// `tether status [PATH]`: a volume's mode, what is dirty (changed since the last sync), how
// many files are remote-only, the open conflicts, and the last sync (cli/run/status.ts).
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { status } from './run/status.js';

export class StatusCommand extends TetherCommand {
  static override paths = [['status']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: "show a mounted volume's mode, dirty paths and conflicts",
    examples: [
      ['The volume this directory is in', '$0 status'],
      ['As JSON', '$0 status ~/work --json'],
    ],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  target = Option.String({ name: 'PATH', required: false });

  execute(): Promise<number> {
    return status(this.target, this.asJson, this.io);
  }
}

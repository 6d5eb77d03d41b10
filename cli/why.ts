// `tether why PATH`: the last failure on a path in a mount, with its tether name
// (cli/run/why.ts).
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { why } from './run/why.js';

export class WhyCommand extends TetherCommand {
  static override paths = [['why']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'explain the last failure on a path in a mount',
    examples: [['Why did cat fail?', '$0 why ~/work/big.iso']],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  target = Option.String({ name: 'PATH' });

  execute(): Promise<number> {
    return why(this.target, this.asJson, this.io);
  }
}

// `tether why PATH`: the last failure on a path in a mount, with its tether name (DESIGN
// decision 7: the mount answers the closest errno, this says what it stood for).
import { Command, Option } from 'clipanion';
import type { WhyRecord } from '../src/volume/why.js';
import { TetherCommand } from './base.js';
import { ask, locateOrThrow, relText } from './volume.js';

export class WhyCommand extends TetherCommand {
  static override paths = [['why']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'explain the last failure on a path in a mount',
    examples: [['Why did cat fail?', '$0 why ~/work/big.iso']],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  target = Option.String({ name: 'PATH' });

  async execute(): Promise<number> {
    const l = locateOrThrow(this.target);
    const r = await ask(l, { op: 'why', path: relText(l) });
    const w = r['why'] as (WhyRecord & { meaning: string }) | undefined;
    if (this.asJson) this.json(w ?? null);
    else if (w === undefined) this.out(`${this.target}: no failure recorded`);
    else {
      this.out(`${this.target}: ${w.name} (answered ${w.errno} to ${w.op}): ${w.meaning}`);
      this.out(`  ${w.message} (${new Date(w.at).toISOString()})`);
    }
    return 0;
  }
}

// `tether why PATH`: the last failure on a path in a mount, with its tether name (DESIGN
// decision 7: the mount answers the closest errno, this says what it stood for).
import { Command, Option } from 'clipanion';
import type { WhyRecord } from '../src/volume/why.js';
import { TetherCommand } from './base.js';
import { locateView } from '../src/view/find.js';
import { request } from '../src/volume/control.js';
import { ask, locateOrThrow, QUICK_MS, relText } from './volume.js';

async function whyInVolume(target: string): Promise<Record<string, unknown>> {
  const l = locateOrThrow(target);
  return ask(l, { op: 'why', path: relText(l) });
}

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
    const inView = locateView(this.target);
    const r =
      inView === undefined
        ? await whyInVolume(this.target)
        : await request(
            inView.viewDir,
            { op: 'why', path: Buffer.from(inView.path, 'latin1').toString() },
            QUICK_MS,
          );
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

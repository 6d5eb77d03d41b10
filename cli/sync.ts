// `tether sync PATH [--dry-run]`: a mounted volume's three-way merge now.
import { Command, Option } from 'clipanion';
import type { Plan } from '../src/merge/plan.js';
import { display } from '../src/tree/index.js';
import { EXIT, TetherCommand } from './base.js';
import { syncReplyOf, troubleCounts, troubleLines } from './sync-reply.js';
import { ask, LONG_MS, locateOrThrow } from './volume.js';

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

  async execute(): Promise<number> {
    const l = locateOrThrow(this.target);
    const r = await ask(l, { op: 'sync', dryRun: this.dryRun }, LONG_MS);
    const plan = r['plan'] as Plan;
    const s = syncReplyOf(r);
    if (this.asJson) this.json(r);
    else {
      for (const a of plan.actions) this.out(`${a.op} ${a.side} ${display(a.path)}`);
      for (const c of plan.conflicts) this.out(`conflict ${c.kind} ${display(c.path)}`);
      for (const line of troubleLines(s)) this.out(line);
      this.out(
        this.dryRun
          ? `would apply ${plan.actions.length} actions; ${s.open} conflicts open`
          : `applied ${s.applied} of ${plan.actions.length} actions${troubleCounts(s)}; ${s.open} conflicts open`,
      );
    }
    // What failed stays as it is on both sides and is tried again by the next sync.
    if (s.failures.length > 0 || s.problems.length > 0) return EXIT.error;
    return s.open > 0 ? EXIT.conflicts : 0;
  }
}

// `tether offline PATH` and `tether online PATH`: switch a mounted volume by hand. Going
// online reconnects: scan, merge, apply through the engine; exit 3 when conflicts remain.
import { Command, Option } from 'clipanion';
import { EXIT, TetherCommand } from './base.js';
import { syncReplyOf, troubleCounts, troubleLines } from './sync-reply.js';
import { ask, LONG_MS, locateOrThrow } from './volume.js';

export class OfflineCommand extends TetherCommand {
  static override paths = [['offline']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'take a mounted volume offline (it keeps working from the cache)',
    examples: [['Before the train leaves', '$0 offline ~/work']],
  });

  target = Option.String({ name: 'PATH' });

  async execute(): Promise<number> {
    const l = locateOrThrow(this.target);
    await ask(l, { op: 'offline' });
    this.out(`${l.mountpoint}: offline`);
    return 0;
  }
}

export class OnlineCommand extends TetherCommand {
  static override paths = [['online']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: "reconnect a volume: merge both sides' changes, then go online",
    details: `
      Exit status 3 when conflicts remain: see them with \`tether conflicts PATH\`, decide
      with \`tether resolve PATH --take local|server|base|both\`.
    `,
    examples: [['Back on the network', '$0 online ~/work']],
  });

  target = Option.String({ name: 'PATH' });

  async execute(): Promise<number> {
    const l = locateOrThrow(this.target);
    const s = syncReplyOf(await ask(l, { op: 'online' }, LONG_MS));
    for (const line of troubleLines(s)) this.out(line);
    this.out(
      `${l.mountpoint}: online (${s.applied} changes applied${troubleCounts(s)}, ${s.open} conflict${s.open === 1 ? '' : 's'} open)`,
    );
    // Online all the same: what failed is tried again by the next sync.
    if (s.failures.length > 0 || s.problems.length > 0) return EXIT.error;
    return s.open > 0 ? EXIT.conflicts : 0;
  }
}

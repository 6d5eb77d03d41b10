// `tether offline PATH` and `tether online PATH`: switch a mounted volume by hand. Going
// online reconnects: scan, merge, apply through the engine; exit 3 when conflicts remain
// (cli/run/mode.ts).
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { offline, online } from './run/mode.js';

export class OfflineCommand extends TetherCommand {
  static override paths = [['offline']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'take a mounted volume offline (it keeps working from the cache)',
    examples: [['Before the train leaves', '$0 offline ~/work']],
  });

  target = Option.String({ name: 'PATH' });

  execute(): Promise<number> {
    return offline(this.target, this.io);
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

  execute(): Promise<number> {
    return online(this.target, this.io);
  }
}

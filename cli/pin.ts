// `tether pin PATH... [--recursive] [--priority N]`, `tether unpin PATH...`, `tether pins`:
// the volume's working set, fetched by `tether hoard` and kept fetched by the daemon
// (cli/run/pin.ts).
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { pin, pins, unpin } from './run/pin.js';

export class PinCommand extends TetherCommand {
  static override paths = [['pin']];
  static override usage = Command.Usage({
    category: 'Working set',
    description: 'keep paths of a volume available offline',
    details: `
      A pinned file is fetched by \`tether hoard\` and kept fetched by the daemon (it re-walks
      the pins every 5 minutes while online). A pinned directory covers its files;
      \`--recursive\` covers everything below it, files created later included.
    `,
    examples: [
      ['Pin a project', '$0 pin --recursive ~/work/project'],
      ['Then fetch it', '$0 hoard ~/work'],
    ],
  });

  recursive = Option.Boolean('--recursive,-r', false, { description: 'Cover everything below' });
  priority = Option.String('--priority', '0', { description: 'Higher is fetched first' });
  targets = Option.Rest({ required: 1 });

  execute(): Promise<number> {
    return pin(this.targets, { recursive: this.recursive, priority: this.priority }, this.io);
  }
}

export class UnpinCommand extends TetherCommand {
  static override paths = [['unpin']];
  static override usage = Command.Usage({
    category: 'Working set',
    description: 'remove pins (the cached content stays until culled)',
    examples: [['Unpin a project', '$0 unpin ~/work/project']],
  });

  targets = Option.Rest({ required: 1 });

  execute(): Promise<number> {
    return unpin(this.targets, this.io);
  }
}

export class PinsCommand extends TetherCommand {
  static override paths = [['pins']];
  static override usage = Command.Usage({
    category: 'Working set',
    description: "list a volume's pins",
    examples: [['List', '$0 pins ~/work']],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  target = Option.String({ name: 'PATH', required: false });

  execute(): Promise<number> {
    return pins(this.target, this.asJson, this.io);
  }
}

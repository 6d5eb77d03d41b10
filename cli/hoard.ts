// `tether hoard [PATH...]`: fetch the pinned set (or the given paths) of a volume now, with a
// progress bar on a terminal. Bounded parallelism and resumable: run it again after an
// interruption and it fetches what is still missing. The body is cli/run/hoard.ts.
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { progress } from './progress.js';
import { hoard } from './run/hoard.js';

export class HoardCommand extends TetherCommand {
  static override paths = [['hoard']];
  static override usage = Command.Usage({
    category: 'Working set',
    description: 'fetch the pinned files of a volume (or the given paths) now',
    details: `
      With no PATH, or the mount point alone, the volume's pins; with other PATHs, everything at or
      below them. Exit status 1 when some files could not be fetched, or when the hoard
      stopped because the cache (or pinned content, past --pin-cache-size) is at its limit.
    `,
    examples: [
      ['Before going offline', '$0 hoard ~/work'],
      ['One directory', '$0 hoard ~/work/project'],
    ],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  targets = Option.Rest();

  execute(): Promise<number> {
    return hoard(this.targets, this.asJson, this.io, (total) => progress('fetch', 'files', total));
  }
}

// `tether hoard [PATH...]`: fetch the pinned set (or the given paths) of a volume now, with a
// progress bar on a terminal. Bounded parallelism and resumable: run it again after an
// interruption and it fetches what is still missing.
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { hoardAndWait } from './hoard-wait.js';
import { locateAll } from './run/pin.js';

export class HoardCommand extends TetherCommand {
  static override paths = [['hoard']];
  static override usage = Command.Usage({
    category: 'Working set',
    description: 'fetch the pinned files of a volume (or the given paths) now',
    details: `
      With no PATH, the volume of the current directory and all its pins; with PATHs, everything
      at or below them. Exit status 1 when some files could not be fetched, or when the hoard
      stopped because the cache (or pinned content, past --pin-cache-size) is at its limit.
    `,
    examples: [
      ['Before going offline', '$0 hoard ~/work'],
      ['One directory', '$0 hoard ~/work/project'],
    ],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  targets = Option.Rest();

  async execute(): Promise<number> {
    const explicit = this.targets.length > 0;
    const { l, rel } = locateAll(explicit ? this.targets : ['.']);
    const paths = explicit && !(rel.length === 1 && rel[0] === '') ? rel : [];
    const s = await hoardAndWait(l, paths);
    if (this.asJson) this.json(s);
    else {
      this.out(
        `${l.mountpoint}: ${s.done - s.failed} of ${s.total} files fetched, ${s.failed} failed`,
      );
      if (s.lastError !== undefined && s.failed > 0) this.out(`last error: ${s.lastError}`);
      if (s.stopped !== undefined) this.out(`hoard stopped: ${s.stopped}`);
    }
    return s.failed > 0 || s.stopped !== undefined ? 1 : 0;
  }
}

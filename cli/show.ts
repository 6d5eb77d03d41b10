// `tether show PATH --snapshot NAME`: that path as a snapshot has it (show-snapshot.ts).
// `tether show PATH --variant local|server|base`: one version of a conflicted path, to stdout
// (base from the store, server from the server replica, local from the variant file or the
// local replica), so it can be compared or piped into a merge tool.
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { conflictPathOf } from '../src/sync/conflict-path.js';
import { openResolveSession } from '../src/sync/resolve-session.js';
import { versionContent } from '../src/sync/resolve-show.js';
import { TetherError } from '../src/errors.js';
import { resolveStore, storeOption, TetherCommand } from './base.js';
import { snapshotContent } from './show-snapshot.js';
import { locate, relText } from './volume.js';

const VARIANTS = ['local', 'server', 'base'] as const;

export class ShowCommand extends TetherCommand {
  static override paths = [['show']];
  static override usage = Command.Usage({
    category: 'Sync',
    description: 'print one version of a conflicted path',
    details: `
      Writes the content of the chosen version to standard output, byte for byte (for a
      symbolic link: its target). PATH is as for \`tether resolve\`. With --snapshot, the
      version a snapshot holds (PATH inside a mounted volume, or with --store relative to
      the snapshots' root; \`tether log PATH\` lists them).
    `,
    examples: [
      ['As the snapshot before-edit has it', '$0 show ~/work/notes.txt --snapshot before-edit'],
      ['What the last sync saw', '$0 show docs/notes.txt --variant base --store ./sync-store'],
      [
        'Compare my version with the server',
        'diff <($0 show f --variant local) <($0 show f --variant server)',
      ],
    ],
  });

  store = storeOption();
  variant = Option.String('--variant', {
    description: 'Which version: local, server or base',
    validator: t.isEnum(VARIANTS),
  });
  snapshot = Option.String('--snapshot', { description: 'The version a snapshot holds' });
  target = Option.String({ name: 'PATH' });

  async execute(): Promise<number> {
    if ((this.variant === undefined) === (this.snapshot === undefined)) {
      throw new TetherError('EUSAGE', 'give one of --variant and --snapshot');
    }
    if (this.variant === undefined) {
      await this.write(await snapshotContent(this.target, this.snapshot!, this.store), undefined);
      return 0;
    }
    const variant = this.variant;
    // A path in a mount names its volume's store, and a path inside the volume.
    const inMount = this.store === undefined ? locate(this.target) : undefined;
    const target = inMount === undefined ? this.target : relText(inMount);
    const session = await openResolveSession(inMount?.storeDir ?? resolveStore(this.store));
    try {
      const path = conflictPathOf(session.env, target, process.cwd());
      const { data, note } = await versionContent(session.env, path, variant);
      await this.write(data, note);
      return 0;
    } finally {
      await session.close();
    }
  }

  private async write(data: Buffer | string, note: string | undefined): Promise<void> {
    if (note !== undefined) this.context.stderr.write(`tether: note: ${note}\n`);
    await new Promise<void>((resolve, reject) => {
      this.context.stdout.write(data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
}

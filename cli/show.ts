// `tether show PATH --variant local|server|base`: one version of a conflicted path, to stdout
// (base from the store, server from the server replica, local from the variant file or the
// local replica), so it can be compared or piped into a merge tool.
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { conflictPathOf, openResolveSession, versionContent } from '../src/sync/resolve.js';
import { resolveStore, storeOption, TetherCommand } from './base.js';
import { locate, relText } from './volume.js';

const VARIANTS = ['local', 'server', 'base'] as const;

export class ShowCommand extends TetherCommand {
  static override paths = [['show']];
  static override usage = Command.Usage({
    category: 'Sync',
    description: 'print one version of a conflicted path',
    details: `
      Writes the content of the chosen version to standard output, byte for byte (for a
      symbolic link: its target). PATH is as for \`tether resolve\`.
    `,
    examples: [
      ['What the last sync saw', '$0 show docs/notes.txt --variant base --store ./sync-store'],
      [
        'Compare my version with the server',
        'diff <($0 show f --variant local) <($0 show f --variant server)',
      ],
    ],
  });

  store = storeOption();
  variant = Option.String('--variant', {
    required: true,
    description: 'Which version: local, server or base',
    validator: t.isEnum(VARIANTS),
  });
  target = Option.String({ name: 'PATH' });

  async execute(): Promise<number> {
    // A path in a mount names its volume's store, and a path inside the volume.
    const inMount = this.store === undefined ? locate(this.target) : undefined;
    const target = inMount === undefined ? this.target : relText(inMount);
    const session = await openResolveSession(inMount?.storeDir ?? resolveStore(this.store));
    try {
      const path = conflictPathOf(session.env, target, process.cwd());
      const { data, note } = await versionContent(session.env, path, this.variant);
      if (note !== undefined) this.context.stderr.write(`tether: note: ${note}\n`);
      await new Promise<void>((resolve, reject) => {
        this.context.stdout.write(data, (err) => {
          if (err) reject(err);
          else resolve();
        });
      });
      return 0;
    } finally {
      await session.close();
    }
  }
}

// `tether resolve PATH --take local|server|base|both`: decide one conflict; the decision is
// carried out on both replicas (checking first that neither changed since the sync), base
// advances for the path, and the record moves to the history.
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { conflictPathOf } from '../src/sync/conflict-path.js';
import { resolveConflict, TAKES } from '../src/sync/resolve.js';
import { openResolveSession } from '../src/sync/resolve-session.js';
import { display } from '../src/tree/index.js';
import { resolveStore, storeOption, TetherCommand } from './base.js';
import { ask, locate, LONG_MS, relText } from './volume.js';

export class ResolveCommand extends TetherCommand {
  static override paths = [['resolve']];
  static override usage = Command.Usage({
    category: 'Sync',
    description: 'resolve a conflict by taking one version (or keeping both)',
    details: `
      PATH is the conflicted path relative to the replicas' root, a path inside either replica,
      or the name of the local variant. A version may be a file, a symlink or a whole directory.

      - \`local\`: the local version becomes the entry on both sides; the variant goes.
      - \`server\`: the server's version stays; the variant goes.
      - \`base\`: the version of the last sync is restored on both sides (removed, if there was none).
      - \`both\`: the variant stays, and becomes a real entry on both sides under its variant name.

      Nothing is overwritten that changed since the last sync: run \`tether sync-dirs\` again
      first in that case. A variant edited since the sync is taken as it is now by \`local\` and
      \`both\`, and never deleted by \`server\` or \`base\`.
    `,
    examples: [
      ['Keep my version', '$0 resolve docs/notes.txt --take local --store ./sync-store'],
      ['Keep both versions', '$0 resolve docs/notes.txt --take both --store ./sync-store'],
    ],
  });

  store = storeOption();
  take = Option.String('--take', {
    required: true,
    description: 'Which version to keep: local, server, base or both',
    validator: t.isEnum(TAKES),
  });
  target = Option.String({ name: 'PATH' });

  async execute(): Promise<number> {
    // A path in a mount: the volume's daemon owns its store, so it resolves.
    const inMount = this.store === undefined ? locate(this.target) : undefined;
    if (inMount !== undefined) {
      const r = await ask(
        inMount,
        { op: 'resolve', path: relText(inMount), take: this.take },
        LONG_MS,
      );
      this.out(`resolved ${relText(inMount)}: took ${String(r['resolution'])}`);
      const left = Number(r['open'] ?? 0);
      if (left > 0) this.out(`${left} conflict${left === 1 ? '' : 's'} left`);
      return 0;
    }
    const session = await openResolveSession(resolveStore(this.store), { lock: true });
    try {
      const path = conflictPathOf(session.env, this.target, process.cwd());
      const r = await resolveConflict(session.env, path, this.take);
      const kept = r.keptPath === undefined ? '' : `; kept ${display(r.keptPath)} on both sides`;
      this.out(`resolved ${display(path)}: took ${r.resolution}${kept}`);
      const left = session.env.conflicts.list().length;
      if (left > 0) this.out(`${left} conflict${left === 1 ? '' : 's'} left`);
      return 0;
    } finally {
      await session.close();
    }
  }
}

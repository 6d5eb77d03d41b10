// `tether snapshot show NAME`: every path of a snapshot with its kind, mode, size and id.
import { Command, Option } from 'clipanion';
import { display, joinPath, type Entry, type Hash, type TreeReader } from '../src/tree/index.js';
import { snapshotTree, storeOption, TetherCommand } from './base.js';
import { withReadStore } from './volume-store.js';
import { entryJson, formatMode } from './format.js';

function* walk(reader: TreeReader, id: Hash, dir = ''): Generator<[string, Entry]> {
  for (const e of reader.readTree(id)) {
    const p = joinPath(dir, e.name);
    yield [p, e];
    if (e.kind === 'dir' && e.id !== undefined) yield* walk(reader, e.id, p);
  }
}

export class SnapshotShowCommand extends TetherCommand {
  static override paths = [['snapshot', 'show']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'list the paths of a snapshot',
    examples: [['Show v1', '$0 snapshot show v1 --store ./store']],
  });

  name = Option.String({ required: true });
  asJson = Option.Boolean('--json', false, { description: 'Print JSON, one object per path' });
  of = Option.String('--of', {
    description: 'A mounted volume (its store, read beside its daemon)',
  });
  store = storeOption();

  async execute(): Promise<number> {
    return withReadStore(this.store, this.of, (store) => {
      const root = snapshotTree(store, this.name);
      for (const [p, e] of walk(store, root)) {
        if (this.asJson) {
          this.context.stdout.write(
            JSON.stringify({
              path: display(p),
              pathBase64: Buffer.from(p, 'latin1').toString('base64'),
              ...(entryJson(e) as object),
            }) + '\n',
          );
        } else {
          const what =
            e.kind === 'symlink' ? `-> ${display(e.target ?? '')}` : (e.id ?? '').slice(0, 12);
          this.out(
            `${e.kind.padEnd(8)} ${formatMode(e.mode)} ${String(e.size).padStart(10)} ${what.padEnd(14)} ${display(p)}`,
          );
        }
      }
      return Promise.resolve(0);
    });
  }
}

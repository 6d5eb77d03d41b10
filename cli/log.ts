// `tether log PATH`: the versions of one path across the snapshots of its volume (or of a
// store): which snapshot, when taken, content id, size and mtime.
import { Command, Option } from 'clipanion';
import { pathHistory } from '../src/store/path-history.js';
import { display, fromText, type Entry } from '../src/tree/index.js';
import { storeOption, TetherCommand } from './base.js';
import { formatBytes, formatMode } from './format.js';
import { locate } from './volume.js';
import { withReadStore } from './volume-store.js';

const what = (e: Entry): string =>
  e.kind === 'symlink' ? `-> ${display(e.target ?? '')}` : (e.id ?? '(never read)').slice(0, 12);

const mtimeText = (e: Entry): string => new Date(Number(e.mtimeNs / 1_000_000n)).toISOString();

export class LogCommand extends TetherCommand {
  static override paths = [['log']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: "list a path's versions across the snapshots",
    details: `
      PATH is a path inside a mounted volume (its snapshots are listed), or with --store a
      path relative to the snapshots' root. One line per snapshot that has the path, oldest
      first: when the snapshot was taken, its name, the content id, size and mtime; "*" marks
      a version that differs from the one before. Exit status 1 when no snapshot has it.
    `,
    examples: [
      ['In a mounted volume', '$0 log ~/work/notes.txt'],
      ['In a store', '$0 log docs/notes.txt --store ./store --json'],
    ],
  });

  target = Option.String({ name: 'PATH', required: true });
  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  store = storeOption();

  async execute(): Promise<number> {
    const inMount = this.store === undefined ? locate(this.target) : undefined;
    const path = inMount?.path ?? fromText(this.target.replace(/^\.?\/+|\/+$/g, ''));
    return withReadStore(this.store, inMount?.mountpoint, (store) => {
      const versions = pathHistory(store, path);
      if (this.asJson) {
        this.json(
          versions.map((v) => ({
            snapshot: v.snapshot,
            takenAt: v.takenAt,
            kind: v.entry.kind,
            id: v.entry.id,
            size: v.entry.size,
            mode: formatMode(v.entry.mode),
            mtime: mtimeText(v.entry),
          })),
        );
      } else {
        let last: string | undefined;
        for (const v of versions) {
          const id = what(v.entry);
          const mark = id === last ? ' ' : '*';
          last = id;
          this.out(
            [
              mark,
              v.takenAt ?? '',
              v.snapshot,
              v.entry.kind,
              id,
              formatBytes(v.entry.size),
              mtimeText(v.entry),
            ].join('\t'),
          );
        }
      }
      if (versions.length === 0) {
        this.context.stderr.write(`tether: no snapshot has ${display(path)}\n`);
        return Promise.resolve(1);
      }
      return Promise.resolve(0);
    });
  }
}

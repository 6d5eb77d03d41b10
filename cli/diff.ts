// `tether diff A B`: what changed from A to B, like `git diff --name-status`. A and B are each a
// snapshot name, @base/@local/@server (the trees of the last sync-dirs run), or a directory,
// which is snapshotted on the fly (incrementally, through the stat cache).
import { resolve } from 'node:path';
import { Command, Option } from 'clipanion';
import { TetherError } from '../src/errors.js';
import { diffStat, diffTrees, type Change } from '../src/merge/diff.js';
import type { Store } from '../src/store/store.js';
import { releaseSyncLock, takeSyncLock } from '../src/sync/lock.js';
import { bytesOf, display, type Hash } from '../src/tree/index.js';
import { resolveStore, snapshotTree, storeOption, TetherCommand, withStore } from './base.js';
import { entryJson, formatBytes, formatMode } from './format.js';
import { progress } from './progress.js';
import { volumeChanges, volumeOfDiff } from './diff-volume.js';

const SYNC_REFS: Record<string, string> = {
  '@base': 'sync/base',
  '@local': 'sync/local',
  '@server': 'sync/server',
};

/** A directory argument contains '/' or starts with '.'; anything else names a snapshot. */
export function isDirArg(arg: string): boolean {
  return arg.includes('/') || arg.startsWith('.');
}

async function treeOf(store: Store, arg: string): Promise<Hash> {
  const ref = SYNC_REFS[arg];
  if (ref !== undefined) {
    const id = store.getRef(ref);
    if (id === undefined) {
      throw new TetherError(
        'ENOTFOUND',
        `${arg} is not known in ${store.dir}: it is recorded by "tether sync-dirs" with this store`,
      );
    }
    return id;
  }
  if (!isDirArg(arg)) return snapshotTree(store, arg);
  const dir = resolve(arg);
  const { scanDirectory } = await import('../src/scan/index.js');
  const bar = progress(`scan ${arg}`, 'files');
  try {
    const r = await scanDirectory(store, dir, {
      cacheKey: 'dir:' + dir,
      onProgress: (p) => {
        bar.update(p.files);
      },
    });
    return r.id;
  } finally {
    bar.stop();
  }
}

/** A link group as the diff shows it: the group's first path, or that the file had no other. */
function linkText(key: string | undefined): string {
  return key === undefined ? 'none' : `with ${display(key)}`;
}

function detail(c: Change): string {
  if (c.status !== 'M' || c.fields.includes('content') || c.a === null || c.b === null) return '';
  const a = c.a;
  const b = c.b;
  const parts = c.fields.map((f) => {
    switch (f) {
      case 'mode':
        return `mode ${formatMode(a.mode)} -> ${formatMode(b.mode)}`;
      case 'uid':
        return `uid ${a.uid} -> ${b.uid}`;
      case 'gid':
        return `gid ${a.gid} -> ${b.gid}`;
      case 'mtime':
        return 'mtime';
      case 'xattrs':
        return 'xattrs';
      case 'rdev':
        return 'rdev';
      case 'links':
        return `hard links ${linkText(a.link)} -> ${linkText(b.link)}`;
      case 'kind':
      case 'content':
        return f;
    }
  });
  return `\t(${parts.join(', ')})`;
}

export class DiffCommand extends TetherCommand {
  static override paths = [['diff']];
  static override usage = Command.Usage({
    category: 'Snapshots',
    description: 'compare two trees: snapshots, sync states or directories',
    details: `
      A and B are each a snapshot name, @base, @local or @server (the trees of the last
      \`tether sync-dirs\` run with this store), or a directory. An argument containing "/" or
      starting with "." is a directory (write ./NAME for a directory in the current one); it is
      snapshotted on the fly, incrementally. Output, sorted by path, like
      \`git diff --name-status\`: A added, D deleted, M modified (metadata-only changes say which
      field, e.g. "(mode 644 -> 755)"), T type changed. Exit status 0 when the trees are equal,
      1 when they differ, 2 on trouble.

      About a mounted volume (an argument inside a tether mount, or a third argument PATH in
      one): @base is the last synced tree, @local what the mount shows (composed by the
      daemon, nothing read through the mount), @server the server as the last sync saw it; a
      snapshot name is one of the volume's, and the mount itself stands for @local. With PATH
      inside the volume, only that part of the volume's trees is compared.
    `,
    examples: [
      ['Two snapshots', '$0 diff v1 v2 --store ./store'],
      ['A snapshot against a directory', '$0 diff v1 ./project --store ./store'],
      ['Counts only', '$0 diff v1 v2 --stat'],
      ['What a mounted volume changed offline', '$0 diff @base @local ~/work'],
      ['A volume snapshot against the mount, in one folder', '$0 diff v1 ~/work/docs'],
    ],
  });

  a = Option.String({ required: true });
  b = Option.String({ required: true });
  where = Option.String({ name: 'PATH', required: false });
  asJson = Option.Boolean('--json', false, { description: 'One JSON object per change' });
  stat = Option.Boolean('--stat', false, { description: 'Counts per status and bytes' });
  store = storeOption();

  protected override errorExit = 2;

  async execute(): Promise<number> {
    const volume = volumeOfDiff(this.a, this.b, this.where);
    if (volume !== undefined) {
      if (this.store !== undefined) {
        throw new TetherError(
          'EUSAGE',
          `a mounted volume's trees are in its own store: drop --store`,
        );
      }
      const { Store } = await import('../src/store/store.js');
      const open = (dir: string): Promise<Store> => Store.open(dir, { readOnly: true });
      return this.print(await volumeChanges(volume, this.a, this.b, open));
    }
    if (this.where !== undefined) {
      throw new TetherError('EUSAGE', `${this.where} is not in a tether mount`);
    }
    const anyDir = isDirArg(this.a) || isDirArg(this.b);
    return withStore(
      resolveStore(this.store),
      async (store) => {
        // A directory is scanned into the store, its objects named by no ref and its scan
        // cache vouching for them: the sync lock is held meanwhile, so gc cannot free them.
        if (anyDir) await takeSyncLock(store.dir, 'tether diff');
        try {
          return await this.compare(store);
        } finally {
          if (anyDir) await releaseSyncLock(store.dir);
        }
      },
      anyDir,
    );
  }

  private async compare(store: Store): Promise<number> {
    const a = await treeOf(store, this.a);
    const b = await treeOf(store, this.b);
    return this.print(diffTrees(store, a, b));
  }

  private print(changes: readonly Change[]): number {
    if (this.stat) {
      const s = diffStat(changes);
      if (this.asJson) this.json(s);
      else
        this.out(
          `${changes.length} changes: ${s.added} added, ${s.deleted} deleted, ` +
            `${s.modified} modified, ${s.typeChanged} type changed; ` +
            `+${formatBytes(s.bytesAdded)} -${formatBytes(s.bytesRemoved)}`,
        );
    } else {
      const lines: string[] = [];
      for (const c of changes) {
        lines.push(
          this.asJson
            ? JSON.stringify({
                path: display(c.path),
                pathBase64: bytesOf(c.path).toString('base64'),
                status: c.status,
                fields: c.fields,
                a: entryJson(c.a),
                b: entryJson(c.b),
              })
            : `${c.status}\t${display(c.path)}${detail(c)}`,
        );
      }
      if (lines.length > 0) this.context.stdout.write(lines.join('\n') + '\n');
    }
    return changes.length === 0 ? 0 : 1;
  }
}

// `tether pin PATH... [--recursive] [--priority N]`, `tether unpin PATH...`, `tether pins`:
// the volume's working set, fetched by `tether hoard` and kept fetched by the daemon.
import { Command, Option } from 'clipanion';
import { TetherError } from '../src/errors.js';
import type { Pin } from '../src/volume/pins.js';
import { TetherCommand } from './base.js';
import { ask, locateOrThrow, relText, type Located } from './volume.js';

/** The volume all of `paths` are in, and each path inside it. */
export function locateAll(paths: readonly string[]): { l: Located; rel: string[] } {
  const all = paths.map((p) => locateOrThrow(p));
  const l = all[0];
  if (l === undefined) throw new TetherError('EUSAGE', 'give at least one path');
  if (all.some((o) => o.storeDir !== l.storeDir)) {
    throw new TetherError('EUSAGE', 'the paths are in different volumes: one volume at a time');
  }
  return { l, rel: all.map(relText) };
}

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

  async execute(): Promise<number> {
    const { l, rel } = locateAll(this.targets);
    const priority = Number(this.priority);
    if (!Number.isInteger(priority)) throw new TetherError('EUSAGE', '--priority is an integer');
    await ask(l, { op: 'pin', paths: rel, recursive: this.recursive, priority });
    this.out(`pinned ${rel.length} path${rel.length === 1 ? '' : 's'} in ${l.mountpoint}`);
    return 0;
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

  async execute(): Promise<number> {
    const { l, rel } = locateAll(this.targets);
    const r = await ask(l, { op: 'unpin', paths: rel });
    this.out(`unpinned ${String(r['removed'])} path(s) in ${l.mountpoint}`);
    return 0;
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

  async execute(): Promise<number> {
    const l = locateOrThrow(this.target ?? '.');
    const pins = ((await ask(l, { op: 'pins' }))['pins'] as Pin[]).map((p) => ({
      ...p,
      path: Buffer.from(p.path, 'latin1').toString('utf8'),
    }));
    if (this.asJson) {
      this.json(pins);
      return 0;
    }
    for (const p of pins) {
      this.out(
        `${p.path === '' ? '.' : p.path}${p.recursive ? ' (recursive)' : ''} priority ${p.priority}`,
      );
    }
    return 0;
  }
}

// The bodies of `tether pin PATH... [--recursive] [--priority N]`, `tether unpin PATH...` and
// `tether pins [PATH]` (cli/pin.ts parses them; so does cli/thin.ts): the volume's working
// set, fetched by `tether hoard` and kept fetched by the daemon.
import { TetherError } from '../../src/errors.js';
import type { Pin } from '../../src/volume/pins.js';
import type { Io } from '../output.js';
import { ask, locateOrThrow, relText, type Located } from '../volume.js';

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

export async function pin(
  targets: readonly string[],
  opts: { readonly recursive: boolean; readonly priority: string },
  io: Io,
): Promise<number> {
  const { l, rel } = locateAll(targets);
  const priority = Number(opts.priority);
  if (!Number.isInteger(priority)) throw new TetherError('EUSAGE', '--priority is an integer');
  await ask(l, { op: 'pin', paths: rel, recursive: opts.recursive, priority });
  io.out(`pinned ${rel.length} path${rel.length === 1 ? '' : 's'} in ${l.mountpoint}`);
  return 0;
}

export async function unpin(targets: readonly string[], io: Io): Promise<number> {
  const { l, rel } = locateAll(targets);
  const r = await ask(l, { op: 'unpin', paths: rel });
  io.out(`unpinned ${String(r['removed'])} path(s) in ${l.mountpoint}`);
  return 0;
}

export async function pins(target: string | undefined, asJson: boolean, io: Io): Promise<number> {
  const l = locateOrThrow(target ?? '.');
  const list = ((await ask(l, { op: 'pins' }))['pins'] as Pin[]).map((p) => ({
    ...p,
    path: Buffer.from(p.path, 'latin1').toString('utf8'),
  }));
  if (asJson) {
    io.json(list);
    return 0;
  }
  for (const p of list) {
    io.out(
      `${p.path === '' ? '.' : p.path}${p.recursive ? ' (recursive)' : ''} priority ${p.priority}`,
    );
  }
  return 0;
}

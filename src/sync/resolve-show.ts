// `tether show PATH --variant local|server|base`: the bytes of one version of a conflicted
// path, from wherever they still are — the local variant, a replica, or the store.
import { readFile } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { bytesOf, display } from '../tree/index.js';
import type { ResolveEnv } from './resolve-env.js';
import { entryAt, full, sameContentAs } from './resolve-read.js';
import { noConflict, notKept } from './resolve-errors.js';

/** The bytes of one version of a conflicted path, for `tether show` (symlinks: the target). */
export async function versionContent(
  env: ResolveEnv,
  name: Path,
  which: 'local' | 'server' | 'base',
): Promise<{ data: Buffer; note?: string }> {
  const c = env.conflicts.get(name);
  if (c === undefined) throw noConflict(env.conflicts.list(), name);
  const path = c.path;
  const want = which === 'local' ? c.local : which === 'server' ? c.server : c.base;
  if (want === null) {
    throw new TetherError(
      'ENOTFOUND',
      `${display(path)} has no ${which} version: ${which === 'base' ? 'it was added on both sides' : `it was deleted on the ${which} side`}`,
      { path: display(path) },
    );
  }
  if (want.kind === 'symlink') return { data: bytesOf(want.target ?? '') };
  if (want.kind !== 'file') {
    throw new TetherError(
      'EUSAGE',
      `the ${which} version of ${display(path)} is a ${want.kind}, not a file`,
      {
        path: display(path),
      },
    );
  }
  // Where the bytes live: the local variant file (or the local replica when the local edit is
  // what both sides hold), the server replica, or the store.
  const places: [string, Path][] =
    which === 'local'
      ? [
          ...(c.variantPath === undefined
            ? []
            : [[env.localRoot, c.variantPath] as [string, Path]]),
          [env.localRoot, path],
        ]
      : which === 'server'
        ? [[env.serverRoot, path]]
        : [];
  for (const [root, p] of places) {
    const e = await entryAt(root, p);
    if (e?.kind === 'file' && sameContentAs(e, want))
      return { data: await readFile(full(root, p)) };
  }
  if (want.id !== undefined) {
    try {
      return { data: await env.base.readBlob(want.id) };
    } catch {
      // fall through: not kept
    }
  }
  // The local variant may have been edited since: show it as it is now, and say so.
  const [root, p] = places[0] ?? ['', ''];
  if (root !== '' && (await entryAt(root, p))?.kind === 'file') {
    return {
      data: await readFile(full(root, p)),
      note: `${display(p)} changed since the conflict was recorded; this is its content now`,
    };
  }
  throw notKept(c, which);
}

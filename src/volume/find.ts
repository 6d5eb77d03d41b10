// Which volume a path is in, from /proc/self/mountinfo alone: a tether mount carries
// fsname=tether:<store>, so a command finds the store without touching the mount (a call into
// a mount whose daemon hangs would hang too).
import { resolve } from 'node:path';
import { TetherError } from '../errors.js';
import { fromText } from '../tree/bytes.js';
import type { Path } from '../merge/plan.js';
import { mountHolding, mounts, type MountInfo } from '../sync/mounts.js';
import { FSNAME_PREFIX } from './layout.js';

export const isTetherMount = (m: MountInfo): boolean =>
  m.fstype === 'fuse.tether' && m.source.startsWith(FSNAME_PREFIX);

export interface Located {
  readonly mountpoint: string;
  readonly storeDir: string;
  /** The path inside the volume ('' for its root). */
  readonly path: Path;
}

export function locate(arg: string, cwd: string = process.cwd()): Located | undefined {
  const abs = resolve(cwd, arg);
  const best = mountHolding(abs, mounts().filter(isTetherMount));
  if (best === undefined) return undefined;
  const rel = abs === best.mountpoint ? '' : abs.slice(best.mountpoint.length + 1);
  return {
    mountpoint: best.mountpoint,
    storeDir: best.source.slice(FSNAME_PREFIX.length),
    path: fromText(rel),
  };
}

export function locateOrThrow(arg: string, cwd: string = process.cwd()): Located {
  const found = locate(arg, cwd);
  if (found !== undefined) return found;
  const all = mounts().filter(isTetherMount);
  throw new TetherError(
    'EUSAGE',
    `${resolve(cwd, arg)} is not in a tether mount` +
      (all.length === 0
        ? ' (none is mounted): mount one with "tether mount REMOTE MOUNTPOINT"'
        : ` (mounted: ${all.map((m) => m.mountpoint).join(', ')}): give a path inside one`),
    { path: arg },
  );
}

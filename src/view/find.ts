// Which view a path is in, from /proc/self/mountinfo alone (never by touching the mount).
import { resolve } from 'node:path';
import { fromText } from '../tree/bytes.js';
import type { Path } from '../merge/plan.js';
import { mountHolding, mounts, type MountInfo } from '../sync/mounts.js';
import { VIEW_FSNAME_PREFIX } from './layout.js';

export interface LocatedView {
  readonly mountpoint: string;
  readonly viewDir: string;
  /** The path inside the view ('' for its root). */
  readonly path: Path;
}

export const isViewMount = (m: MountInfo): boolean =>
  m.fstype === 'fuse.tether' && m.source.startsWith(VIEW_FSNAME_PREFIX);

export function locateView(arg: string, cwd: string = process.cwd()): LocatedView | undefined {
  const abs = resolve(cwd, arg);
  const best = mountHolding(
    abs,
    mounts().filter((m) => m.fstype === 'fuse.tether'),
  );
  if (best === undefined || !isViewMount(best)) return undefined;
  const rel = abs === best.mountpoint ? '' : abs.slice(best.mountpoint.length + 1);
  return {
    mountpoint: best.mountpoint,
    viewDir: best.source.slice(VIEW_FSNAME_PREFIX.length),
    path: fromText(rel),
  };
}

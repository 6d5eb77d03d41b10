// Which volume a path is in, from /proc/self/mountinfo alone: a tether mount carries
// fsname=tether:<store>, so a command finds the store without touching the mount (a call into
// a mount whose daemon hangs would hang too).
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { TetherError } from '../errors.js';
import { fromText } from '../tree/index.js';
import type { Path } from '../merge/plan.js';
import { FSNAME_PREFIX } from './layout.js';

export interface MountInfo {
  readonly mountpoint: string;
  readonly fstype: string;
  readonly source: string;
}

const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function mounts(): MountInfo[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 0 || f[4] === undefined) continue;
    out.push({
      mountpoint: unescape(f[4]),
      fstype: f[dash + 1] ?? '',
      source: unescape(f[dash + 2] ?? ''),
    });
  }
  return out;
}

export const isTetherMount = (m: MountInfo): boolean =>
  m.fstype === 'fuse.tether' && m.source.startsWith(FSNAME_PREFIX);

/** Whether something is mounted at `dir` (exactly there). */
export function mountAt(dir: string): MountInfo | undefined {
  const abs = resolve(dir);
  return mounts()
    .reverse()
    .find((m) => m.mountpoint === abs);
}

export interface Located {
  readonly mountpoint: string;
  readonly storeDir: string;
  /** The path inside the volume ('' for its root). */
  readonly path: Path;
}

export function locate(arg: string, cwd: string = process.cwd()): Located | undefined {
  const abs = resolve(cwd, arg);
  let best: MountInfo | undefined;
  for (const m of mounts()) {
    if (!isTetherMount(m)) continue;
    const inside =
      abs === m.mountpoint || abs.startsWith(m.mountpoint === sep ? sep : m.mountpoint + sep);
    if (inside && (best === undefined || m.mountpoint.length >= best.mountpoint.length)) best = m;
  }
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

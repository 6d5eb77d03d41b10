// The mount table, read from /proc/self/mountinfo alone: it answers without touching any
// mount (a call into a hung share, or into a FUSE mount whose daemon is stuck, would hang too).
// sync-dirs asks it which file system holds a directory (network-fs.ts); the commands find a
// volume or a view by the mount holding a path.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface MountInfo {
  readonly mountpoint: string;
  readonly fstype: string;
  readonly source: string;
}

/** mountinfo escapes space, tab, newline and backslash in paths as octal. */
const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mounts a mountinfo text lists, in its order (a later mount on a point hides an earlier). */
export function parseMounts(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    const point = f[4];
    const fstype = f[dash + 1];
    if (dash < 5 || point === undefined || fstype === undefined) continue;
    out.push({ mountpoint: unescape(point), fstype, source: unescape(f[dash + 2] ?? '') });
  }
  return out;
}

export function mounts(): MountInfo[] {
  return parseMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Whether something is mounted at `dir` (exactly there): the latest mount on it. */
export function mountAt(dir: string): MountInfo | undefined {
  const abs = resolve(dir);
  return mounts()
    .reverse()
    .find((m) => m.mountpoint === abs);
}

/**
 * Of `list`, the mount holding the absolute path `abs`: the longest mount point it is at or
 * under (a prefix of a name is no parent); of two on one point the later, which hides the other.
 */
export function mountHolding(abs: string, list: readonly MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of list) {
    const at = m.mountpoint;
    const inside = at === '/' || abs === at || abs.startsWith(at + '/');
    if (inside && (best === undefined || at.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

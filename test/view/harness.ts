// Views mounted for a test: `tether mount --snapshot|--variant …` in a child, and a teardown
// that always unmounts (then detaches) and stops a daemon that outlived its mount.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { tetherRun, type Ran } from '../mount/harness.js';

export interface ViewMount {
  readonly mnt: string;
  readonly mounted: Ran;
  unmount(): Promise<Ran>;
}

const mountedAt = (mnt: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `);

/** The directory of the daemon serving the view at `mnt`, from its fsname (undefined: none). */
export function viewDirAt(mnt: string): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.includes(` ${mnt} `));
  return line?.match(/ tetherview:(\S+)/)?.[1];
}

/** The pid of the daemon serving the view at `mnt` (undefined: none). */
export function viewPid(mnt: string): number | undefined {
  const dir = viewDirAt(mnt);
  if (dir === undefined || !existsSync(join(dir, 'daemon.pid'))) return undefined;
  return Number(readFileSync(join(dir, 'daemon.pid'), 'utf8'));
}

export async function mountView(
  t: ExecutionContext,
  mnt: string,
  args: readonly string[],
): Promise<ViewMount> {
  mkdirSync(mnt, { recursive: true });
  const unmount = async (): Promise<Ran> => tetherRun(['unmount', mnt], 30_000);
  t.teardown(async () => {
    const pid = viewPid(mnt);
    if (mountedAt(mnt)) {
      const r = await unmount();
      if (r.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
    }
    try {
      if (pid !== undefined && pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  });
  const mounted = await tetherRun(['mount', ...args, mnt], 30_000);
  return { mnt, mounted, unmount };
}

// tether's volume mount as a target of the POSIX suites: a fresh remote directory mounted with
// `tether mount REMOTE MOUNTPOINT --allow-other` (the daemon is another process), online, or
// after `tether offline MOUNTPOINT`. Every CLI call runs in a child with a deadline; unmount
// falls back to fusermount -uz and stops a daemon that outlived its mount by its pid.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from '../cli/run.js';
import { fusermountUnmount, isMounted, run, whyNoMount } from '../fuse/harness.js';
import type { MountedTarget, Target } from './target.js';

const tether = (args: string[], timeoutMs = 60_000) =>
  run(process.execPath, [MAIN, ...args], { timeoutMs });

/** Why tether's mount cannot be a target here: no FUSE, or a build without `tether mount`. */
function whyNoTether(): string | undefined {
  const why = whyNoMount();
  if (why !== undefined) return why;
  if (!existsSync(MAIN)) return 'the CLI is not built';
  const help = spawnSync(process.execPath, [MAIN, 'mount', '--help'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return help.status === 0 && /MOUNTPOINT/.test(help.stdout)
    ? undefined
    : 'this build has no `tether mount`';
}

export interface TetherTarget extends Target {
  /** `tether status` of each mount, taken when it was unmounted. */
  readonly statuses: string[];
}

export function tetherTarget(mode: 'online' | 'offline'): TetherTarget {
  const target: TetherTarget = {
    statuses: [],
    name: `tether ${mode}`,
    why: whyNoTether(),
    ownXattrs: 'user.tether.',
    async mount(): Promise<MountedTarget> {
      const base = mkdtempSync(join(tmpdir(), 'tether-posix-vol-'));
      chmodSync(base, 0o755);
      const [remote, mnt, store] = ['remote', 'mnt', 'store'].map((d) => join(base, d)) as [
        string,
        string,
        string,
      ];
      mkdirSync(remote, { mode: 0o755 });
      // An empty remote looks like an unmounted share: the first flush would stop at that guard
      // and the volume go offline. A file in it keeps an online target online.
      writeFileSync(join(remote, 'seed'), 'remote\n');
      mkdirSync(mnt);
      const unmount = async (): Promise<void> => {
        const r = await tether(['unmount', mnt]);
        if (r.status !== 0) await fusermountUnmount(mnt);
        const pidFile = join(store, 'daemon.pid');
        if (existsSync(pidFile)) {
          try {
            process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
          } catch {
            // gone already
          }
        }
        if (isMounted(mnt)) await fusermountUnmount(mnt);
        if (!isMounted(mnt)) rmSync(base, { recursive: true, force: true });
      };
      const up = await tether(['mount', remote, mnt, '--store', store, '--allow-other']);
      if (up.status !== 0) {
        await unmount();
        throw new Error(`tether mount failed: ${up.stderr}`);
      }
      if (mode === 'offline') {
        const off = await tether(['offline', mnt]);
        if (off.status !== 0) {
          await unmount();
          throw new Error(`tether offline failed: ${off.stderr}`);
        }
      }
      // What `tether status` said just before unmounting: whether the volume stayed online.
      const recordStatus = async (): Promise<void> => {
        const st = await tether(['status', mnt]);
        target.statuses.push(st.stdout.toString() + st.stderr);
        await unmount();
      };
      return { dir: mnt, unmount: recordStatus };
    },
  };
  return target;
}

// Where the POSIX cases run: a target mounts a directory and hands back its path and a way to
// unmount it. The local disk is the reference; the passthrough fixture and tether's volume
// mount are held to it by the same cases.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountFixture, whyNoMount, type FixtureOptions } from '../fuse/harness.js';

export interface MountedTarget {
  readonly dir: string;
  unmount(): Promise<void>;
}

export interface Target {
  readonly name: string;
  /** Why this target cannot run here, or undefined. */
  readonly why: string | undefined;
  /** xattrs the target shows on every path by design (tether's user.tether.*, DESIGN 8). */
  readonly ownXattrs?: string;
  mount(): Promise<MountedTarget>;
}

/** A plain directory on the local disk (ext4 on CI): the expected answers. */
export const localDisk: Target = {
  name: 'local disk',
  why: undefined,
  mount() {
    const dir = mkdtempSync(join(tmpdir(), 'tether-posix-'));
    chmodSync(dir, 0o755); // the unprivileged user's cases reach it
    return Promise.resolve({
      dir,
      unmount: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    });
  },
};

/**
 * The settings the suite runs at: the binding's long cache lifetimes (DESIGN 18; the mount is
 * the backing directory's only writer), other users let in, the kernel checking permissions.
 */
export const CONFORMANT: FixtureOptions = { allowOther: true };

/** The passthrough test fixture over an ext4 directory, on tether's low-level binding. */
export function passthroughTarget(
  options: FixtureOptions = CONFORMANT,
  name = 'passthrough',
): Target {
  return {
    name,
    why: whyNoMount(),
    async mount() {
      const m = await mountFixture('passthrough', options);
      return { dir: m.dir, unmount: () => m.unmount() };
    },
  };
}

// Mounting a handler table (DESIGN decisions 17, 21): through tether's own libfuse 3 low-level
// binding (lowlevel.ts), the one binding tether has. A volume's table passes through to its
// local view (`root`); a read-only view's table has no directory behind it. Where the binding
// was not built (no libfuse3-dev at install), mounting fails saying what to install.
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { loadLowLevel } from './lowlevel-addon.js';
import { mountLowLevel, type LowLevelOptions } from './lowlevel.js';
import type { Operations } from './operations.js';

/** Why no FUSE mount can be made by this build, or undefined when one can. */
export function whyNoBinding(): string | undefined {
  return loadLowLevel() === undefined
    ? "tether's FUSE binding is not built here: install libfuse3-dev and pkg-config (Debian: apt-get install fuse3 libfuse3-dev pkg-config), then run npm ci (or npm run build:native)"
    : undefined;
}

/** A mount's fsname goes into an option string: no separators in it. */
export function checkFsname(fsname: string): void {
  if (/[,\\\s]/.test(fsname)) {
    throw new TetherError(
      'EUSAGE',
      `a store path with a comma, backslash or space cannot name a mount (${fsname}): give another --store`,
    );
  }
}

/** fsname, allow_other, read-only, the directory behind the handlers and cache lifetimes. */
export type MountOptions = LowLevelOptions;

export interface VolumeMount {
  readonly mountpoint: string;
  /** Tell the kernel that `path` changed underneath the mount. */
  invalidate(path: Path): void;
  /** The paths ('' the root) the kernel may hold cached entries, attributes or pages of. */
  cached(): Path[];
  /**
   * Resolves once every request the kernel handed the session before this call has reached
   * its handler (or after `deadlineMs`): what a program did before it asked the daemon
   * something (a file closed, so released) is then what the daemon sees.
   */
  settled(deadlineMs?: number): Promise<void>;
  /** The handlers may answer ownersHere otherwise now (the volume changed its mode). */
  asked(): void;
  unmount(deadlineMs?: number): Promise<void>;
}

export async function mountHandlers(
  mountpoint: string,
  ops: Operations,
  o: MountOptions,
): Promise<VolumeMount> {
  checkFsname(o.fsname);
  const why = whyNoBinding();
  if (why !== undefined) throw new TetherError('EUSAGE', why);
  try {
    return await mountLowLevel(mountpoint, ops, o);
  } catch (err) {
    throw new TetherError(
      'EUSAGE',
      `cannot mount at ${mountpoint}: ${(err as Error).message}`,
      { mountpoint },
      { cause: err },
    );
  }
}

// Mounting a volume's handler table through the binding (binding.ts; DESIGN decision 17).
// attr/entry/negative timeouts are 0: the local view changes under the kernel (the engine
// applies server changes to it), and with use_ino a cached attribute of a hard link would go
// stale (decision 17's measured bound). atomic_o_trunc: an open with O_TRUNC arrives as such
// (not as an open, then a truncate), so a placeholder opened to be overwritten is neither
// fetched first nor refused offline.
import { TetherError } from '../errors.js';
import { mount, type Mounted, type Operations } from './binding.js';

export type { Mounted };

export interface VolumeMountOptions {
  /** Identifies the volume in /proc/self/mountinfo (tether:<store>). */
  readonly fsname: string;
  readonly allowOther: boolean;
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

export async function mountHandlers(
  mountpoint: string,
  ops: Operations,
  opts: VolumeMountOptions,
): Promise<Mounted> {
  checkFsname(opts.fsname);
  try {
    return await mount(mountpoint, ops, {
      fsname: opts.fsname,
      subtype: 'tether',
      attrTimeout: 0,
      entryTimeout: 0,
      negativeTimeout: 0,
      defaultPermissions: true,
      allowOther: opts.allowOther,
      options: ['atomic_o_trunc'],
    });
  } catch (err) {
    throw new TetherError(
      'EUSAGE',
      `cannot mount at ${mountpoint}: ${(err as Error).message}`,
      { mountpoint },
      { cause: err },
    );
  }
}

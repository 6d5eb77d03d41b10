// Mounting a handler table through the binding (fuse-native 2.2.6 for now; DESIGN decision
// 17). Options the binding does not expose are appended to the subtype's value (its option
// string is the names joined by commas). attr/entry timeouts are 0: the local view changes
// under the kernel (the engine applies server changes to it), and with use_ino a cached
// attribute of a hard link would go stale (decision 17's measured bound). atomic_o_trunc: an
// open with O_TRUNC arrives as such (not as an open, then a truncate), so a placeholder opened
// to be overwritten is not fetched first, nor refused offline.
import { createRequire } from 'node:module';
import { TetherError } from '../errors.js';
import type { Handlers } from './handlers.js';

interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
type FuseClass = new (mnt: string, ops: Handlers, opts: Record<string, unknown>) => FuseInstance;

export interface MountOptions {
  /** Identifies the volume in /proc/self/mountinfo (tether:<store>). */
  readonly fsname: string;
  readonly allowOther: boolean;
}

function binding(): FuseClass {
  try {
    return createRequire(import.meta.url)('fuse-native') as FuseClass;
  } catch (err) {
    throw new TetherError(
      'EUSAGE',
      `the FUSE binding cannot be loaded (${(err as Error).message}): install libfuse2 ` +
        '(Debian: apt-get install libfuse2 fuse3) and run "npm ci" again',
      {},
      { cause: err },
    );
  }
}

export interface Mounted {
  unmount(): Promise<void>;
}

export async function mountHandlers(
  mountpoint: string,
  handlers: Handlers,
  opts: MountOptions,
): Promise<Mounted> {
  if (/[,\\]/.test(opts.fsname)) {
    throw new TetherError(
      'EUSAGE',
      `a store path with a comma or backslash cannot name a mount (${opts.fsname}): give another --store`,
    );
  }
  const Fuse = binding();
  const extra = [
    'use_ino',
    'atomic_o_trunc',
    'attr_timeout=0',
    'entry_timeout=0',
    'negative_timeout=0',
  ];
  const fuse = new Fuse(mountpoint, handlers, {
    fsname: opts.fsname,
    subtype: ['tether', ...extra].join(','),
    defaultPermissions: true,
    allowOther: opts.allowOther,
    // Handlers answer themselves; the binding's own 15 s timeout would answer twice.
    timeout: false,
  });
  await new Promise<void>((resolve, reject) => {
    fuse.mount((err) => {
      if (err === null) resolve();
      else reject(err);
    });
  });
  return {
    unmount: () =>
      new Promise<void>((resolve, reject) => {
        fuse.unmount((err) => {
          if (err === null) resolve();
          else reject(err);
        });
      }),
  };
}

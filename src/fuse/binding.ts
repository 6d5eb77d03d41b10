// The FUSE binding tether mounts through: fuse-native 2.2.6 with the project's patch
// (patches/fuse-native+2.2.6.patch, rebuilt from source at install). This module is the only
// importer of fuse-native: it refuses a stock build, builds the mount options, and mounts and
// unmounts with deadlines. The handler table itself (Operations) is fuse-native's, typed in
// fuse-native.d.ts; what the patch changes is listed there.
//
// Names: the kernel's byte names cross the binding as Latin-1 strings (one code unit per
// byte). Use nameBytes()/bytesName() to go between them and Buffers; pass Buffers to node:fs.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type FuseClass from 'fuse-native';

/** A directory's entries with their attributes: rows as lowlevel-addon.ts's putAttrs writes them (node 0). */
export interface AttrListing {
  readonly names: Buffer[];
  readonly attrs: Float64Array;
}

export type Operations = FuseClass.Operations & {
  /**
   * Optional, for the low-level binding's readdirplus: a directory's entries (. and ..
   * included) with their attributes, in one call. ENOSYS where it cannot: the binding then
   * lists the names and stats each.
   */
  readdirAttrs?: (
    path: string,
    cb: (err: number, listing?: AttrListing) => void,
    caller: Caller,
  ) => void;
};
export type Caller = FuseClass.Caller;
export type Stat = FuseClass.Stat;
export type Statfs = FuseClass.Statfs;
export type Timespec = FuseClass.Timespec;

/** The patch revision this code speaks (fuse-native's exported patchLevel). */
export const PATCH_LEVEL = 1;

/** utimens: a Timespec whose nsec is UTIME_NOW means "now", UTIME_OMIT "leave as it is". */
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

/** A path or name from the binding as the bytes it stands for. */
export function nameBytes(name: string): Buffer {
  return Buffer.from(name, 'latin1');
}

/** Bytes as the binding's name string (for readdir, readlink, or a path to compare with). */
export function bytesName(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export interface MountOptions {
  /** Seconds the kernel may cache attributes; 0 asks for every stat (hard-link coherence). */
  attrTimeout?: number;
  /** Seconds the kernel may cache a name lookup. */
  entryTimeout?: number;
  /** Seconds the kernel may cache "no such name". */
  negativeTimeout?: number;
  /** Writes arrive in requests of up to maxWrite bytes instead of 4 KiB (default on). */
  bigWrites?: boolean;
  /** Largest write request with bigWrites, in bytes (libfuse 2's limit is 128 KiB). */
  maxWrite?: number;
  /** stat shows the handlers' inode numbers (default on): hard links show one inode. */
  useIno?: boolean;
  /** readdir shows the handlers' inode numbers too (default on). */
  readdirIno?: boolean;
  /** Keep file contents in the page cache across opens. */
  kernelCache?: boolean;
  /** Keep file contents cached across opens while size and mtime are unchanged. */
  autoCache?: boolean;
  /** The kernel checks permissions against the modes and owners getattr reports. */
  defaultPermissions?: boolean;
  /** Users other than the mounting one may use the mount (needs root or user_allow_other). */
  allowOther?: boolean;
  /** Unlink at once even while open (operations then reach handlers with a null path). */
  hardRemove?: boolean;
  fsname?: string;
  subtype?: string;
  debug?: boolean;
  /** More -o options, as they are. */
  options?: string[];
}

export interface Mounted {
  readonly mountpoint: string;
  /** Unmounts (lazily, if busy); rejects if fusermount does not answer within deadlineMs. */
  unmount(deadlineMs?: number): Promise<void>;
}

type FuseConstructor = typeof FuseClass;

let loaded: FuseConstructor | undefined;

/**
 * Loads fuse-native, checking that the patched build is the one loaded. Throws with what to
 * do when the FUSE 2 library is missing or the binary is a stock one.
 */
export function loadFuse(): FuseConstructor {
  if (loaded !== undefined) return loaded;
  let Fuse: FuseConstructor;
  try {
    Fuse = createRequire(import.meta.url)('fuse-native') as FuseConstructor;
  } catch (err) {
    throw new Error(
      'the FUSE binding cannot be loaded: install the FUSE 2 library and fusermount ' +
        '(Debian: apt-get install fuse3 libfuse2), then run npm ci again',
      { cause: err },
    );
  }
  if (Fuse.patchLevel !== PATCH_LEVEL) {
    throw new Error(
      `the FUSE binding is not tether's patched build (patch level ${Fuse.patchLevel}, ` +
        `want ${PATCH_LEVEL}): run npm ci, which patches and rebuilds fuse-native ` +
        '(it needs python3, make and a C compiler)',
    );
  }
  loaded = Fuse;
  return Fuse;
}

/** fuse-native's options from ours, with tether's defaults (big writes, real inode numbers). */
export function fuseOptions(o: MountOptions): FuseClass.Options {
  const opts: FuseClass.Options = {
    bigWrites: o.bigWrites ?? true,
    useIno: o.useIno ?? true,
    readdirIno: o.readdirIno ?? true,
  };
  if (o.maxWrite !== undefined) opts.maxWrite = o.maxWrite;
  if (o.attrTimeout !== undefined) opts.attrTimeout = o.attrTimeout;
  if (o.entryTimeout !== undefined) opts.entryTimeout = o.entryTimeout;
  if (o.negativeTimeout !== undefined) opts.negativeTimeout = o.negativeTimeout;
  if (o.kernelCache === true) opts.kernelCache = true;
  if (o.autoCache === true) opts.autoCache = true;
  if (o.defaultPermissions === true) opts.defaultPermissions = true;
  if (o.allowOther === true) opts.allowOther = true;
  if (o.hardRemove === true) opts.hardRemove = true;
  if (o.fsname !== undefined) opts.fsname = o.fsname;
  if (o.subtype !== undefined) opts.subtype = o.subtype;
  if (o.debug === true) opts.debug = true;
  if (o.options !== undefined) opts.options = o.options;
  return opts;
}

function withDeadline<T>(
  what: string,
  ms: number,
  start: (done: (err: Error | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what} did not finish within ${ms} ms`));
    }, ms);
    start((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    });
  });
}

/** Detaches a mount with fusermount (lazily: busy files stay usable until closed). */
export function forceUnmount(mountpoint: string, deadlineMs = 5000): Promise<void> {
  return withDeadline<undefined>(`unmounting ${mountpoint}`, deadlineMs, (done) => {
    execFile('fusermount', ['-uz', mountpoint], { timeout: deadlineMs }, (err) => {
      done(err);
    });
  });
}

/**
 * Mounts ops at mountpoint and resolves once the kernel has initialised the mount. Never call
 * into the mount from this process (the handlers need this event loop): use a child process.
 */
export async function mount(
  mountpoint: string,
  ops: Operations,
  options: MountOptions = {},
  deadlineMs = 10_000,
): Promise<Mounted> {
  const Fuse = loadFuse();
  const fuse = new Fuse(mountpoint, ops, fuseOptions(options));
  try {
    await withDeadline<undefined>(`mounting ${mountpoint}`, deadlineMs, (done) => {
      fuse.mount((err) => {
        done(err);
      });
    });
  } catch (err) {
    await forceUnmount(mountpoint).catch(() => undefined);
    throw err;
  }
  return {
    mountpoint,
    unmount: (ms = 5000) =>
      withDeadline<undefined>(`unmounting ${mountpoint}`, ms, (done) => {
        fuse.unmount((err) => {
          done(err);
        });
      }),
  };
}

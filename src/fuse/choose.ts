// Which FUSE binding mounts a volume (DESIGN decision 17): tether's own libfuse 3 low-level
// binding where it is built, else the patched fuse-native. `tether mount --binding` or the
// environment (TETHER_FUSE_BINDING) may ask for either; asking for one that cannot load is an
// error, not a silent fallback.
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import type { Operations } from './binding.js';
import type { CheckedReads } from './checked-reads.js';
import { loadLowLevel } from './lowlevel-addon.js';
import { mountLowLevel } from './lowlevel.js';
import { checkFsname, mountHandlers, type VolumeMountOptions } from './mount.js';

export const BINDINGS = ['lowlevel', 'fuse-native'] as const;
export type BindingName = (typeof BINDINGS)[number];

export const BINDING_ENV = 'TETHER_FUSE_BINDING';

/** The binding to mount with: `asked`, else the environment's, else the best one built. */
export function chooseBinding(asked?: string): BindingName {
  const want = asked ?? process.env[BINDING_ENV] ?? '';
  if (want === '') return loadLowLevel() === undefined ? 'fuse-native' : 'lowlevel';
  if (!(BINDINGS as readonly string[]).includes(want)) {
    throw new TetherError('EUSAGE', `unknown FUSE binding "${want}" (${BINDINGS.join(' or ')})`);
  }
  if (want === 'lowlevel' && loadLowLevel() === undefined) {
    throw new TetherError(
      'EUSAGE',
      'the low-level FUSE binding is not built here: install libfuse3-dev and pkg-config, then run npm ci (or npm run build:native)',
    );
  }
  return want as BindingName;
}

export interface VolumeMount {
  readonly mountpoint: string;
  readonly binding: BindingName;
  /** Tell the kernel that `path` changed underneath the mount (a no-op where nothing is cached). */
  invalidate(path: Path): void;
  unmount(deadlineMs?: number): Promise<void>;
}

export async function mountChosen(
  mountpoint: string,
  ops: Operations,
  opts: VolumeMountOptions & {
    readonly root: string;
    readonly log?: (line: string) => void;
    /** Paths whose contents change behind the view (never cached by the kernel). */
    readonly volatile?: (path: string) => boolean;
    /** Descriptors whose reads the handlers check (fuse-native serves every read there). */
    readonly checked?: CheckedReads;
  },
  binding: BindingName = chooseBinding(),
): Promise<VolumeMount> {
  if (binding === 'fuse-native') {
    const m = await mountHandlers(mountpoint, ops, opts);
    return { mountpoint, binding, invalidate: () => undefined, unmount: (ms) => m.unmount(ms) };
  }
  checkFsname(opts.fsname);
  try {
    const m = await mountLowLevel(mountpoint, ops, {
      root: opts.root,
      fsname: opts.fsname,
      allowOther: opts.allowOther,
      ...(opts.log === undefined ? {} : { log: opts.log }),
      ...(opts.volatile === undefined ? {} : { volatile: opts.volatile }),
      ...(opts.checked === undefined ? {} : { checked: opts.checked }),
    });
    return {
      mountpoint,
      binding,
      invalidate: (p) => {
        m.invalidate(p);
      },
      unmount: (ms) => m.unmount(ms),
    };
  } catch (err) {
    throw new TetherError(
      'EUSAGE',
      `cannot mount at ${mountpoint}: ${(err as Error).message}`,
      { mountpoint },
      { cause: err },
    );
  }
}

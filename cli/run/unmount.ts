// The body of `tether unmount MOUNTPOINT` (cli/unmount.ts parses it; so does cli/thin.ts): the
// daemon flushes what is dirty (online), unmounts and stops; a mount whose daemon died is
// detached. A read-only view's daemon simply stops. The views of a volume's store are unmounted
// with it, first (src/daemon/with-volume.ts). It returns once the daemon has finished.
import { resolve } from 'node:path';
import { unmountView, unmountVolume } from '../../src/daemon/unmount.js';
import { unmountViewsOf } from '../../src/daemon/with-volume.js';
import { mountAt } from '../../src/sync/mounts.js';
import { isViewMount } from '../../src/view/find.js';
import { isTetherMount } from '../../src/volume/find.js';
import { FSNAME_PREFIX } from '../../src/volume/layout.js';
import type { Io } from '../output.js';

/** Unmount what is at `mountpoint`; `log` says what happened on the way (on stderr). */
export async function unmount(
  mountpoint: string,
  io: Io,
  log: (line: string) => void,
): Promise<number> {
  const mp = resolve(mountpoint);
  const there = mountAt(mp);
  if (there !== undefined && isViewMount(there)) await unmountView(mp, log);
  else {
    if (there !== undefined && isTetherMount(there)) {
      await unmountViewsOf(there.source.slice(FSNAME_PREFIX.length), log);
    }
    await unmountVolume(mp, log);
  }
  io.out(`unmounted ${mp}`);
  return 0;
}

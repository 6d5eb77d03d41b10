// Views go away with their volume. A view of a mounted volume (`--variant`, `--snapshot … --of`)
// reads the volume's store and follows its daemon; once the volume is unmounted it shows
// nothing anyone asked to keep. So `tether unmount` of a volume first unmounts every view of
// its store and stops their daemons, and `tether mount` of a volume whose daemon died cleans
// up the views that daemon left behind, before the new one starts. Views are found from
// /proc/self/mountinfo alone (their fsname names their directory under the store).
import { resolve } from 'node:path';
import { daemonAnswers } from '../volume/control.js';
import { mounts } from '../sync/mounts.js';
import { isViewMount } from '../view/find.js';
import { storeOfViewDir, VIEW_FSNAME_PREFIX } from '../view/layout.js';
import { unmountView } from './unmount.js';

/** The mount points of the views of `storeDir`. */
export function viewsOfStore(storeDir: string): string[] {
  const store = resolve(storeDir);
  return mounts()
    .filter(
      (m) =>
        isViewMount(m) &&
        resolve(storeOfViewDir(m.source.slice(VIEW_FSNAME_PREFIX.length))) === store,
    )
    .map((m) => m.mountpoint);
}

/** Unmount every view of `storeDir` (stopping its daemon); returns their mount points. */
export async function unmountViewsOf(
  storeDir: string,
  log: (line: string) => void,
): Promise<string[]> {
  const done: string[] = [];
  for (const mp of viewsOfStore(storeDir)) {
    try {
      await unmountView(mp, log);
      log(`unmounted the view at ${mp}`);
      done.push(mp);
    } catch (err) {
      // One view that cannot be unmounted does not keep the volume (or the others) mounted.
      log(`could not unmount the view at ${mp}: ${(err as Error).message}`);
    }
  }
  return done;
}

/**
 * Before a volume of `storeDir` is mounted: when no daemon serves the store, views of it left
 * by a daemon that died are unmounted. With a live daemon nothing is touched (the mount will
 * be refused for it).
 */
export async function cleanUpOrphanViews(
  storeDir: string,
  log: (line: string) => void,
): Promise<string[]> {
  if (viewsOfStore(storeDir).length === 0) return [];
  if (await daemonAnswers(storeDir)) return [];
  log(`the daemon of an earlier mount of ${storeDir} is gone; unmounting its views`);
  return unmountViewsOf(storeDir, log);
}

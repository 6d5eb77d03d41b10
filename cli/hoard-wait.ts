// A hoard started in a volume's daemon and followed to its end (shared by `tether hoard` and
// `tether snapshot take --fetch`). How its progress shows is the caller's: a bar on a terminal
// from the full command line (cli/progress.ts), which the thin one, without cli-progress, does
// not draw.
import { setTimeout as sleep } from 'node:timers/promises';
import type { HoardStatus } from '../src/volume/hoard.js';
import type { Progress } from './progress.js';
import { ask, type Located } from './volume.js';

const POLL_MS = 200;

/** Progress counting files fetched, up to `total`. */
export type HoardProgress = (total: number) => Progress;

/** Fetch `paths` (every pin when empty) of the volume at `l`; the hoard's final status. */
export async function hoardAndWait(
  l: Located,
  paths: readonly string[],
  progress: HoardProgress,
): Promise<HoardStatus> {
  let s = (await ask(l, { op: 'hoard', paths }))['hoard'] as HoardStatus;
  const bar = progress(s.total);
  try {
    while (s.running) {
      await sleep(POLL_MS);
      s = (await ask(l, { op: 'hoard-status' }))['hoard'] as HoardStatus;
      bar.update(s.done);
    }
  } finally {
    bar.stop();
  }
  return s;
}

// A hoard started in a volume's daemon and followed to its end with a progress bar (shared by
// `tether hoard` and `tether snapshot take --fetch`).
import { setTimeout as sleep } from 'node:timers/promises';
import type { HoardStatus } from '../src/volume/hoard.js';
import { progress } from './progress.js';
import { ask, type Located } from './volume.js';

const POLL_MS = 200;

/** Fetch `paths` (every pin when empty) of the volume at `l`; the hoard's final status. */
export async function hoardAndWait(l: Located, paths: readonly string[]): Promise<HoardStatus> {
  let s = (await ask(l, { op: 'hoard', paths }))['hoard'] as HoardStatus;
  const bar = progress('fetch', 'files', s.total);
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

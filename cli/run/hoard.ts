// The body of `tether hoard [PATH...] [--json]` (cli/hoard.ts parses it; so does cli/thin.ts,
// where stderr is no terminal): fetch the pinned set of a volume, or the given paths, now.
import { EXIT, type Io } from '../output.js';
import { hoardAndWait, type HoardProgress } from '../hoard-wait.js';
import { locateAll } from './pin.js';

export async function hoard(
  targets: readonly string[],
  asJson: boolean,
  io: Io,
  progress: HoardProgress,
): Promise<number> {
  const explicit = targets.length > 0;
  const { l, rel } = locateAll(explicit ? targets : ['.']);
  const paths = explicit && !(rel.length === 1 && rel[0] === '') ? rel : [];
  const s = await hoardAndWait(l, paths, progress);
  if (asJson) io.json(s);
  else {
    io.out(`${l.mountpoint}: ${s.done - s.failed} of ${s.total} files fetched, ${s.failed} failed`);
    if (s.lastError !== undefined && s.failed > 0) io.out(`last error: ${s.lastError}`);
    if (s.stopped !== undefined) io.out(`hoard stopped: ${s.stopped}`);
  }
  return s.failed > 0 || s.stopped !== undefined ? EXIT.error : 0;
}

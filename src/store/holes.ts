// Where an open file has holes (SEEK_DATA / SEEK_HOLE, through the native helper): readers
// hash zeros for them without reading, and copies leave them unwritten, so a sparse file is
// neither read whole nor filled. Without the helper (not built) no holes are known: the file
// is read as before, only slower.
import { loadNativeAddon } from './native-addon.js';

type HolesFn = (fd: number, start: number) => Float64Array;

const holesFn = loadNativeAddon<{ holes?: HolesFn }>((n) => typeof n.holes === 'function')?.holes;

/** The holes of open file `fd` from `start` on, as [start, end) pairs (none if unknown). */
export function holesOf(fd: number, start: number): Float64Array {
  return holesFn === undefined ? new Float64Array(0) : holesFn(fd, start);
}

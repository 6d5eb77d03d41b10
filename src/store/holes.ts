// Where an open file has holes (SEEK_DATA / SEEK_HOLE, through the native helper): readers
// hash zeros for them without reading, and copies leave them unwritten, so a sparse file is
// neither read whole nor filled. Without the helper (not built) no holes are known: the file
// is read as before, only slower.
import { createRequire } from 'node:module';

type HolesFn = (fd: number, start: number) => Float64Array;

function load(): HolesFn | undefined {
  if (process.env['TETHER_NATIVE'] === '0') return undefined;
  const require = createRequire(import.meta.url);
  // From dist/src/store (the compiled modules) or dist/ (the bundled CLI), as sync/native.ts.
  for (const p of [
    '../../../build/Release/tether_native.node',
    '../build/Release/tether_native.node',
  ]) {
    try {
      const n = require(p) as { holes?: HolesFn };
      if (typeof n.holes === 'function') return n.holes;
    } catch {
      // not built here: try the next place
    }
  }
  return undefined;
}

const holesFn = load();

/** The holes of open file `fd` from `start` on, as [start, end) pairs (none if unknown). */
export function holesOf(fd: number, start: number): Float64Array {
  return holesFn === undefined ? new Float64Array(0) : holesFn(fd, start);
}

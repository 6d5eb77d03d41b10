// tether's native addon (native/scandir.c, built by `npm ci` or `npm run build:native`), found
// from the compiled modules (dist/src/<layer>) or from the bundled CLI (dist/). Undefined where
// it is not built (no C toolchain), where TETHER_NATIVE=0, or where `accept` refuses a stale
// build: callers then fall back to slower or narrower ways.
import { createRequire } from 'node:module';

export function loadNativeAddon<T>(accept: (addon: T) => boolean): T | undefined {
  if (process.env['TETHER_NATIVE'] === '0') return undefined;
  const require = createRequire(import.meta.url);
  for (const p of [
    '../../../build/Release/tether_native.node',
    '../build/Release/tether_native.node',
  ]) {
    try {
      const n = require(p) as T;
      if (accept(n)) return n;
    } catch {
      // not built here: try the next place
    }
  }
  return undefined;
}

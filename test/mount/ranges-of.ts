// What the daemon recorded of a partly fetched file, read from its store beside it.
import { createHash } from 'node:crypto';
import { Store } from '../../src/store/store.js';
import { RangeStore } from '../../src/volume/range-store.js';
import type { RangeMap } from '../../src/volume/ranges.js';

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The range map the daemon recorded for `path` (the store opened read-only beside it). */
export async function rangesOf(store: string, path: string): Promise<RangeMap | undefined> {
  const s = await Store.open(store, { readOnly: true });
  try {
    return new RangeStore(s.db('volume')).get(path);
  } finally {
    await s.close();
  }
}

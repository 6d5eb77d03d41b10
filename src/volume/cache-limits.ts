// A volume's cache limits, kept in its store: a mount that gives a limit replaces the stored one,
// a mount that gives none keeps it (the limit belongs to the volume, not to one mount).
//   cacheSize     what automatically cached content (fetched files, the store) may take
//   pinCacheSize  what pinned content may take before it counts against cacheSize too
import { asBytes, type KvDb } from '../store/kv.js';

export interface CacheLimits {
  readonly cacheSize?: number;
  readonly pinCacheSize?: number;
}

const KEY = Buffer.from('cache-limits');

export function readLimits(db: KvDb): CacheLimits {
  const v = asBytes(db.get(KEY));
  if (v === undefined) return {};
  const o = JSON.parse(v.toString()) as { cacheSize?: unknown; pinCacheSize?: unknown };
  const size = (x: unknown): number | undefined =>
    typeof x === 'number' && Number.isSafeInteger(x) && x > 0 ? x : undefined;
  const cacheSize = size(o.cacheSize);
  const pinCacheSize = size(o.pinCacheSize);
  return {
    ...(cacheSize === undefined ? {} : { cacheSize }),
    ...(pinCacheSize === undefined ? {} : { pinCacheSize }),
  };
}

/** Store the limits given (each replaces its stored value) and answer the volume's limits. */
export async function keepLimits(db: KvDb, given: CacheLimits): Promise<CacheLimits> {
  const now = { ...readLimits(db), ...given };
  if (given.cacheSize !== undefined || given.pinCacheSize !== undefined) {
    await db.put(KEY, Buffer.from(JSON.stringify(now)));
  }
  return now;
}

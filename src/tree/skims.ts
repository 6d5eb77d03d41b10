// Skimmed listings: a tree's canonical encoding with where each entry and each name lies
// (skimEntries), which walks zip by bytes without decoding the entries that are the same on
// every side. Reading and skimming a listing costs more than the zip, and the walks of one
// sync (the both-changed and rename passes, the merge) read the same directories, so a reader
// may keep a SkimCache: whoever owns the reader (a store) owns the cache, and drops it with
// the reader or whenever it likes; nothing of it outlives its owner.
import { decodeEntryAt, skimEntries } from './decode.js';
import { treeBytesOf } from './encode.js';
import type { Entry, TreeReader } from './entry.js';
import type { Hash } from './hash.js';
import { lookup } from './lookup.js';

/** A directory listing as its canonical encoding, with where each entry and name lies. */
export interface Skimmed {
  readonly bytes: Buffer;
  /** Four offsets per entry: entry start and end, name start and end (skimEntries). */
  readonly at: Uint32Array;
}

/** The encoding of tree `id` from `reader`, skimmed (a copy: a store lends its buffer briefly). */
export function skimTree(reader: TreeReader, id: Hash): Skimmed {
  const bytes = Buffer.from(treeBytesOf(reader, id));
  return { bytes, at: skimEntries(bytes) };
}

/**
 * Skimmed trees by id. An id names its bytes whichever reader serves them (a store verifies
 * what it reads against the id), so one cache serves every reader in front of the same store
 * (an overlay of trees built in memory too). Emptied past a budget of bytes.
 */
export class SkimCache {
  private readonly byId = new Map<Hash, Skimmed>();
  private bytes = 0;

  constructor(private readonly budget = 32 << 20) {}

  /** Tree `id`, skimmed, read from `reader` unless kept. */
  get(reader: TreeReader, id: Hash): Skimmed {
    const hit = this.byId.get(id);
    if (hit !== undefined) return hit;
    const skimmed = skimTree(reader, id);
    if (this.bytes > this.budget) this.clear();
    this.byId.set(id, skimmed);
    this.bytes += skimmed.bytes.length + skimmed.at.byteLength;
    return skimmed;
  }

  /** Forget every listing kept. */
  clear(): void {
    this.byId.clear();
    this.bytes = 0;
  }
}

/** The entry named `name` (a byte string) in a skimmed listing, decoded alone; or undefined. */
export function skimmedEntry(l: Skimmed, name: string): Entry | undefined {
  const want = Buffer.from(name, 'latin1');
  let lo = 0;
  let hi = l.at.length / 4 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    // Compared in place (a subarray per step was most of a lookup's cost).
    const c = l.bytes.compare(want, 0, want.length, l.at[4 * mid + 2], l.at[4 * mid + 3]);
    if (c === 0) return decodeEntryAt(l.bytes, l.at[4 * mid]!, l.at[4 * mid + 1]!);
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * lookup (lookup.ts) through the reader's skimmed listings, where it keeps them: each level a
 * binary search over names as bytes and one entry decoded, not the whole listing (the
 * directories a merge looks up in are the ones its walk skimmed). Without a SkimCache, lookup.
 */
export function lookupSkimmed(reader: TreeReader, root: Hash, path: string): Entry | undefined {
  const skims = reader.skims;
  if (skims === undefined) return lookup(reader, root, path);
  if (path === '') return undefined;
  const parts = path.split('/');
  let id = root;
  for (let i = 0; ; i++) {
    const e = skimmedEntry(skims.get(reader, id), parts[i]!);
    if (e === undefined || i === parts.length - 1) return e;
    if (e.kind !== 'dir' || e.id === undefined) return undefined;
    id = e.id;
  }
}

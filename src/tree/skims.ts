// Skimmed listings: a tree's canonical encoding with where each entry and each name lies
// (skimEntries), which walks zip by bytes without decoding the entries that are the same on
// every side. Reading and skimming a listing costs more than the zip, and the walks of one
// sync (the both-changed and rename passes, the merge) read the same directories, so a reader
// may keep a SkimCache: whoever owns the reader (a store) owns the cache, and drops it with
// the reader or whenever it likes; nothing of it outlives its owner.
import { skimEntries } from './decode.js';
import { treeBytesOf } from './encode.js';
import type { TreeReader } from './entry.js';
import type { Hash } from './hash.js';

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

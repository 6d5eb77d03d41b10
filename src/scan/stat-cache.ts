// The stat cache that makes a re-snapshot cheap (git's index trick): for every file read, the
// (size, mtime, ctime, inode, device) it had and the content id it hashed to. A file whose five
// fields still match is not read again. A file changed within the filesystem's timestamp
// granularity of the scan could change again without moving its stamp ("racy git"), so such
// files (mtime at or after the scan's start, less a margin) are not cached and are read again
// next time. ctime is compared but not used for this rule: setting times moves it to now.
import type { BigIntStats } from 'node:fs';
import type { KvDb } from '../sync/ports.js';
import { asBytes } from '../sync/ports.js';
import { bytesOf, type ByteString, type Hash } from '../tree/index.js';

const RECORD = 5 * 8 + 32;
/** Files modified this close to the scan's start are left out of the cache. */
const RACY_NS = 100_000_000n;

export interface StatRecord {
  readonly st: BigIntStats;
  readonly id: Hash;
}

export class StatCache {
  private readonly writes: Promise<boolean>[] = [];

  constructor(
    private readonly db: KvDb,
    private readonly scanStartNs: bigint,
  ) {}

  /** The cached id for a file whose stat still matches, else undefined. */
  lookup(path: ByteString, st: BigIntStats): Hash | undefined {
    const v = asBytes(this.db.get(bytesOf(path)));
    if (v?.length !== RECORD) return undefined;
    if (
      v.readBigUInt64LE(0) !== st.size ||
      v.readBigInt64LE(8) !== st.mtimeNs ||
      v.readBigInt64LE(16) !== st.ctimeNs ||
      v.readBigUInt64LE(24) !== st.ino ||
      v.readBigUInt64LE(32) !== st.dev
    ) {
      return undefined;
    }
    return v.subarray(40).toString('hex');
  }

  /** Remember a file just read (unless it is too fresh to trust its stamp). */
  record(path: ByteString, st: BigIntStats, id: Hash): void {
    const fresh = this.scanStartNs - RACY_NS;
    if (st.mtimeNs >= fresh) return;
    const v = Buffer.allocUnsafe(RECORD);
    v.writeBigUInt64LE(st.size, 0);
    v.writeBigInt64LE(st.mtimeNs, 8);
    v.writeBigInt64LE(st.ctimeNs, 16);
    v.writeBigUInt64LE(st.ino, 24);
    v.writeBigUInt64LE(st.dev, 32);
    Buffer.from(id, 'hex').copy(v, 40);
    this.writes.push(this.db.put(bytesOf(path), v));
  }

  async flush(): Promise<void> {
    await Promise.all(this.writes);
    this.writes.length = 0;
  }
}

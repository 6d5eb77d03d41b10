// Store keys for records kept by path. LMDB's keys are at most 1978 bytes and a path may be far
// longer (the mount serves paths past PATH_MAX), so a key is the prefix and the path, or, past
// RAW_KEY bytes, the first RAW_KEY bytes of that, a NUL (no path has one) and a hash of the
// whole; such a record's value ends with its path, so every path reads back whole.
import { createHash } from 'node:crypto';
import type { Path } from '../merge/plan.js';

const RAW_KEY = 1024;
const NUL = Buffer.alloc(1);

export class PathKeys {
  constructor(private readonly prefix: Buffer) {}

  key(path: Path): Buffer {
    // Made in one buffer (a byte string's length is its byte count), not as a concat of two:
    // every create through the mount asks for several keys.
    const raw = Buffer.allocUnsafe(this.prefix.length + path.length);
    this.prefix.copy(raw, 0);
    raw.write(path, this.prefix.length, 'latin1');
    if (raw.length <= RAW_KEY) return raw;
    return Buffer.concat([
      raw.subarray(0, RAW_KEY),
      NUL,
      createHash('sha256').update(raw).digest(),
    ]);
  }

  /** A record's value: `head` (fixed length), then the path where the key cannot hold it. */
  value(path: Path, head: Buffer): Buffer {
    return this.isHashed(path) ? Buffer.concat([head, Buffer.from(path, 'latin1')]) : head;
  }

  /** The path of a record, from its key, or past a `headLength`-byte head of its value. */
  pathOf(key: Buffer, value: Buffer | undefined, headLength: number): Path {
    return key.length > RAW_KEY
      ? (value?.subarray(headLength).toString('latin1') ?? '')
      : key.subarray(this.prefix.length).toString('latin1');
  }

  /** The first key at or below `dir` (every key under dir starts with it). */
  start(dir: Path): Buffer {
    return dir === '' ? this.prefix : this.key(dir).subarray(0, RAW_KEY);
  }

  private isHashed(path: Path): boolean {
    return this.prefix.length + Buffer.byteLength(path, 'latin1') > RAW_KEY;
  }
}

// Object ids: BLAKE3-256, kept in memory as 64 lowercase hex digits.
import { Blake3Hasher } from '@napi-rs/blake-hash';

/** 64 lowercase hex digits of a BLAKE3-256 digest. */
export type Hash = string;

export const HASH_BYTES = 32;

export function hashBytes(data: Uint8Array): Hash {
  const h = new Blake3Hasher();
  h.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return h.digest('hex');
}

/** A streaming hasher for content read in pieces. */
export function newHasher(): { update(b: Uint8Array): void; digest(): Hash } {
  const h = new Blake3Hasher();
  return {
    update(b) {
      h.update(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    },
    digest: () => h.digest('hex'),
  };
}

const HEX64 = /^[0-9a-f]{64}$/;
export function isHash(s: string): s is Hash {
  return HEX64.test(s);
}

export const EMPTY_BLOB_ID: Hash = hashBytes(new Uint8Array(0));

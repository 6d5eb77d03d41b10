// The range map of a partially fetched file (DESIGN decision 5): which byte ranges of the
// server's file are present in the placeholder, for which version of the server's file (its
// size and mtime when the first range was fetched) and which local inode. Pure values and
// functions; range-store.ts keeps them in the store. Ranges are half-open [start, end), kept
// sorted, disjoint and merged (adjacent ranges join), so a map stays a few numbers long.

/** The server's file a map belongs to: its ranges are its bytes only while this holds. */
export interface ServerStamp {
  readonly size: number;
  readonly mtimeNs: bigint;
}

export interface RangeMap extends ServerStamp {
  /** The placeholder's inode: a map counts only for the file it was filled into. */
  readonly ino: bigint;
  /** Present bytes, as [start, end) pairs: sorted, disjoint, not adjacent. */
  readonly ranges: readonly (readonly [number, number])[];
}

export function emptyMap(stamp: ServerStamp, ino: bigint): RangeMap {
  return { size: stamp.size, mtimeNs: stamp.mtimeNs, ino, ranges: [] };
}

/** Whether `map`'s ranges are bytes of the server file with `stamp` (the same size and mtime). */
export function sameServerFile(map: ServerStamp, stamp: ServerStamp): boolean {
  return map.size === stamp.size && map.mtimeNs === stamp.mtimeNs;
}

/** `map` with [start, end) present too. */
export function withRange(map: RangeMap, start: number, end: number): RangeMap {
  if (end <= start) return map;
  const out: [number, number][] = [];
  let s = start;
  let e = end;
  for (const [a, b] of map.ranges) {
    if (b < s || a > e) out.push([a, b]);
    else {
      s = Math.min(s, a);
      e = Math.max(e, b);
    }
  }
  out.push([s, e]);
  out.sort((x, y) => x[0] - y[0]);
  return { ...map, ranges: out };
}

/** `map` without [start, end) (those bytes are missing again). */
export function withoutRange(map: RangeMap, start: number, end: number): RangeMap {
  if (end <= start) return map;
  const out: [number, number][] = [];
  for (const [a, b] of map.ranges) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  return { ...map, ranges: out };
}

/** Bytes present. */
export function presentBytes(map: RangeMap): number {
  return map.ranges.reduce((n, [a, b]) => n + (Math.min(b, map.size) - Math.min(a, map.size)), 0);
}

/** Every byte of the server's file is present. */
export function isComplete(map: RangeMap): boolean {
  return missingRanges(map).length === 0;
}

/** The gaps of [0, size) not present, in order. */
export function missingRanges(map: RangeMap): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (const [a, b] of map.ranges) {
    if (a > at) out.push([at, Math.min(a, map.size)]);
    at = Math.max(at, b);
    if (at >= map.size) break;
  }
  if (at < map.size) out.push([at, map.size]);
  return out.filter(([a, b]) => b > a);
}

/**
 * What is missing, cut into pieces of at most `chunk` bytes aligned on multiples of `chunk`
 * (the unit one request fetches, and the unit recorded once durable).
 */
export function missingChunks(map: RangeMap, chunk: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of missingRanges(map)) {
    for (let s = a; s < b;) {
      const e = Math.min(b, (Math.floor(s / chunk) + 1) * chunk);
      out.push([s, e]);
      s = e;
    }
  }
  return out;
}

/**
 * The first missing byte range met by reading [pos, pos + len) of a file whose local size is
 * `localSize` (bytes past it are end of file, not missing), or undefined when all of it is
 * present. Bytes past the server file's size are missing where the local file still has them.
 */
export function firstGap(
  map: RangeMap,
  pos: number,
  len: number,
  localSize: number,
): [number, number] | undefined {
  const end = Math.min(pos + len, localSize);
  if (end <= pos) return undefined;
  let at = pos;
  for (const [a, b] of map.ranges) {
    if (b <= at) continue;
    if (a > at) break;
    at = Math.min(b, map.size);
    if (at >= end) return undefined;
  }
  if (at >= end) return undefined;
  const next = map.ranges.find(([a]) => a > at)?.[0] ?? Math.max(map.size, localSize);
  return [at, Math.min(next, Math.max(map.size, localSize))];
}

const HEAD = 8 + 8 + 8 + 4;

/** A map as bytes: size, mtime, inode, count, then (start, end) pairs, all little-endian. */
export function encodeMap(map: RangeMap): Buffer {
  const b = Buffer.alloc(HEAD + 16 * map.ranges.length);
  b.writeBigUInt64LE(BigInt(map.size), 0);
  b.writeBigInt64LE(map.mtimeNs, 8);
  b.writeBigUInt64LE(map.ino, 16);
  b.writeUInt32LE(map.ranges.length, 24);
  map.ranges.forEach(([s, e], i) => {
    b.writeBigUInt64LE(BigInt(s), HEAD + 16 * i);
    b.writeBigUInt64LE(BigInt(e), HEAD + 16 * i + 8);
  });
  return b;
}

/** The map `b` holds and how many bytes it took (a record may go on with its path), or undefined if `b` is not one. */
export function decodeMap(b: Buffer): { map: RangeMap; length: number } | undefined {
  if (b.length < HEAD) return undefined;
  const n = b.readUInt32LE(24);
  const length = HEAD + 16 * n;
  if (b.length < length) return undefined;
  const ranges: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    ranges.push([
      Number(b.readBigUInt64LE(HEAD + 16 * i)),
      Number(b.readBigUInt64LE(HEAD + 16 * i + 8)),
    ]);
  }
  const map = {
    size: Number(b.readBigUInt64LE(0)),
    mtimeNs: b.readBigInt64LE(8),
    ino: b.readBigUInt64LE(16),
    ranges,
  };
  return { map, length };
}

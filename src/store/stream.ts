// Reading a file in large pieces with the next read already under way while the current
// piece is hashed (native code on this thread) and written: reads run in the I/O threads, so
// reading and hashing overlap instead of taking turns. Most files are small: the first read
// takes a small buffer, and a file that fits it is done in that one read.
import { open, type FileHandle } from 'node:fs/promises';
import { newHasher, type Hash } from '../tree/index.js';

export const PIECE = 4 << 20;
/** The first read of a file. */
export const FIRST = 64 << 10;

/** Read `fh` from `start` to its end; returns the number of bytes read. */
export async function pump(
  fh: FileHandle,
  start: number,
  onPiece: (piece: Buffer, pos: number) => Promise<void> | void,
): Promise<number> {
  const first = takeFirst();
  let got: number;
  try {
    got = (await fh.read(first, 0, FIRST, start)).bytesRead;
    if (got > 0) await onPiece(first.subarray(0, got), start);
  } finally {
    giveFirst(first);
  }
  if (got < FIRST) return got;
  const bufs = [take(), take()];
  try {
    return got + (await run(fh, start + got, onPiece, bufs));
  } finally {
    give(bufs[0]!);
    give(bufs[1]!);
  }
}

/**
 * Reused buffers: a scan reads thousands of files, and one allocated per file would keep the
 * garbage collector busy (a big buffer is external memory, which it counts towards a collection).
 */
const spare: Buffer[] = [];
const take = (): Buffer => spare.pop() ?? Buffer.allocUnsafe(PIECE);
const give = (b: Buffer): void => {
  if (spare.length < 4) spare.push(b);
};
const spareFirst: Buffer[] = [];
/** A FIRST-byte buffer of the pool; give it back with giveFirst once nothing reads it. */
export const takeFirst = (): Buffer => spareFirst.pop() ?? Buffer.allocUnsafeSlow(FIRST);
export const giveFirst = (b: Buffer): void => {
  if (spareFirst.length < 64) spareFirst.push(b);
};

async function run(
  fh: FileHandle,
  start: number,
  onPiece: (piece: Buffer, pos: number) => Promise<void> | void,
  bufs: Buffer[],
): Promise<number> {
  let pos = start;
  let k = 0;
  let reading = fh.read(bufs[0]!, 0, PIECE, pos);
  for (;;) {
    const { bytesRead } = await reading;
    if (bytesRead === 0) return pos - start;
    const piece = bufs[k]!.subarray(0, bytesRead);
    const at = pos;
    pos += bytesRead;
    k ^= 1;
    reading = fh.read(bufs[k]!, 0, PIECE, pos);
    try {
      await onPiece(piece, at);
    } catch (err) {
      await reading.catch(() => undefined); // the buffer goes back to the pool only when idle
      throw err;
    }
  }
}

/** BLAKE3 of a file's content, read in large pieces while the previous one is hashed. */
export async function hashFile(p: string | Buffer): Promise<Hash> {
  const fh = await open(p, 'r');
  try {
    const h = newHasher();
    await pump(fh, 0, (piece) => {
      h.update(piece);
    });
    return h.digest();
  } finally {
    await fh.close();
  }
}

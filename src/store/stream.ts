// Reading a file in large pieces with the next read already under way while the current
// piece is hashed (native code on this thread) and written: reads run in the I/O threads, so
// reading and hashing overlap instead of taking turns. Most files are small: the first read
// takes a small buffer, and a file that fits it is done in that one read.
import { constants, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { newHasher, type Hash } from '../tree/index.js';
import { holesOf } from './holes.js';

export const PIECE = 4 << 20;
/** The first read of a file. */
export const FIRST = 64 << 10;

/**
 * A piece of a file: its bytes and where they start. \`hole\`: the piece lies in a hole of the
 * file (zeros that were not read): a copy leaves it unwritten, so the copy stays sparse.
 */
export type OnPiece = (piece: Buffer, pos: number, hole: boolean) => Promise<void> | void;

/** Read `fh` from `start` to its end; returns the number of bytes read (holes included). */
export async function pump(fh: FileHandle, start: number, onPiece: OnPiece): Promise<number> {
  const first = takeFirst();
  let got: number;
  try {
    got = (await fh.read(first, 0, FIRST, start)).bytesRead;
    if (got > 0) await onPiece(first.subarray(0, got), start, false);
  } finally {
    giveFirst(first);
  }
  if (got < FIRST) return got;
  const holes = holesOf(fh.fd, start + got);
  if (holes.length > 0) return got + (await sparse(fh, start + got, onPiece, holes));
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

/** Zeros handed out for holes (never written to). */
let zeros: Buffer | undefined;

/**
 * pump over a file with holes: data ranges are read, holes handed out as zeros unread. One
 * read at a time (sparse files are few; the overlapped loop below is for the rest). A hole
 * filled since the holes were found reads as zeros here: the caller's check of the file's
 * stat after the read (snapshot) or of the content id (copies) catches that, as any write
 * during a read.
 */
async function sparse(
  fh: FileHandle,
  start: number,
  onPiece: OnPiece,
  holes: Float64Array,
): Promise<number> {
  zeros ??= Buffer.alloc(PIECE);
  const buf = take();
  let pos = start;
  let h = 0;
  try {
    for (;;) {
      while (h < holes.length && holes[h + 1]! <= pos) h += 2;
      const holeStart = h < holes.length ? holes[h]! : Infinity;
      if (holeStart <= pos) {
        const n = Math.min(PIECE, holes[h + 1]! - pos);
        await onPiece(zeros.subarray(0, n), pos, true);
        pos += n;
        continue;
      }
      const want = Math.min(PIECE, holeStart - pos);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) return pos - start;
      await onPiece(buf.subarray(0, bytesRead), pos, false);
      pos += bytesRead;
    }
  } finally {
    give(buf);
  }
}

async function run(
  fh: FileHandle,
  start: number,
  onPiece: OnPiece,
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
      await onPiece(piece, at, false);
    } catch (err) {
      await reading.catch(() => undefined); // the buffer goes back to the pool only when idle
      throw err;
    }
  }
}

const NOATIME = constants.O_RDONLY | constants.O_NOATIME;

/**
 * A file opened to be read by tether itself (hashing, storing, copying), without moving its
 * atime: a background read must not change what the user's `stat` shows. O_NOATIME needs the
 * file's owner (or CAP_FOWNER); for anyone else it is a plain read.
 */
export async function openToRead(p: string | Buffer): Promise<FileHandle> {
  try {
    return await open(p, NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    return open(p, 'r');
  }
}

/** openToRead, synchronously (small files read whole). */
export function openToReadSync(p: string | Buffer): number {
  try {
    return openSync(p, NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    return openSync(p, 'r');
  }
}

/** BLAKE3 of a file's content, read in large pieces while the previous one is hashed. */
export async function hashFile(p: string | Buffer): Promise<Hash> {
  const fh = await openToRead(p);
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

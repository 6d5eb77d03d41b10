// Reading a file in large pieces with the next read already under way while the current
// piece is hashed (native code on this thread) and written: reads run in the I/O threads, so
// reading and hashing overlap instead of taking turns.
import type { FileHandle } from 'node:fs/promises';

export const PIECE = 4 << 20;

/** Read `fh` from `start` to its end; returns the number of bytes read. */
export async function pump(
  fh: FileHandle,
  start: number,
  onPiece: (piece: Buffer, pos: number) => Promise<void> | void,
): Promise<number> {
  const bufs = [Buffer.allocUnsafe(PIECE), Buffer.allocUnsafe(PIECE)];
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
    await onPiece(piece, at);
  }
}

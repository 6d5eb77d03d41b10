// Fetching a placeholder's content from the remote into the local view, in place: the file
// keeps its inode (open handles, hard links and the kernel's node stay valid), then takes the
// remote file's mtime, so a file fetched unchanged has base's stamp and is no change.
import { open, utimes } from 'node:fs/promises';
import { timeArg } from '../scan/stamp.js';

const CHUNK = 1 << 20;

/**
 * Copy `src` over `dst` in place; returns the source's size and mtime as copied. `progress`
 * is called once the source is open and after each chunk (a deadline on lack of progress).
 */
export async function copyInPlace(
  src: Buffer,
  dst: Buffer,
  progress: (bytes: number) => void = () => undefined,
): Promise<{ size: number; mtimeNs: bigint }> {
  const from = await open(src, 'r');
  try {
    const st = await from.stat({ bigint: true });
    progress(0);
    const to = await open(dst, 'r+');
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      let pos = 0;
      for (;;) {
        const { bytesRead } = await from.read(buf, 0, CHUNK, pos);
        if (bytesRead === 0) break;
        let done = 0;
        while (done < bytesRead) {
          const { bytesWritten } = await to.write(buf, done, bytesRead - done, pos + done);
          done += bytesWritten;
        }
        pos += bytesRead;
        progress(pos);
      }
      await to.truncate(pos);
      await to.sync();
    } finally {
      await to.close();
    }
    const t = timeArg(st.mtimeNs);
    await utimes(dst, t, t);
    return { size: Number(st.size), mtimeNs: st.mtimeNs };
  } finally {
    await from.close();
  }
}

/** `p`, or a rejection once `ms` have passed (the work itself cannot be stopped, only left). */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

// One range of a server file copied into its placeholder, in place and durably: what the remote
// agent runs for each range request (and the daemon itself where no agent runs). The copy
// first checks that the server's file is still the version the range map belongs to, and
// answers only once the bytes are on disk (fdatasync), so the daemon may record the range.
import { closeSync, fsync, ftruncateSync, futimesSync, openSync, writeSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { timeArg } from '../scan/stamp.js';
import { TetherError } from '../errors.js';
import { native } from '../scan/native.js';
import type { ServerStamp } from './ranges.js';

/** The server's file is no longer the version the map belongs to (ranges.ts): start over. */
const changed = (why: string): Error => new TetherError('ECHANGED', why);

const READ = 1 << 20;

/** The server file's stamp now. */
export async function serverStamp(src: Buffer): Promise<ServerStamp> {
  const st = await stat(src, { bigint: true });
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  return { size: Number(st.size), mtimeNs: st.mtimeNs };
}

/**
 * Copy bytes [start, end) of `src` (which must still have the stamp `expect`) over the same
 * bytes of `dst`, then fdatasync `dst`. `progress` is called once the source is open and after
 * each read (a deadline on lack of progress); `cancelled` is asked before each write (an agent
 * whose daemon is gone writes nothing more).
 */
export async function copyRange(
  src: Buffer,
  dst: Buffer,
  start: number,
  end: number,
  expect: ServerStamp,
  progress: (bytes: number) => void = () => undefined,
  cancelled: () => boolean = () => false,
): Promise<number> {
  const from = await open(src, 'r');
  try {
    const st = await from.stat({ bigint: true });
    if (Number(st.size) !== expect.size || st.mtimeNs !== expect.mtimeNs) {
      throw changed('the server file changed since its first ranges were fetched');
    }
    progress(0);
    const to = await open(dst, 'r+');
    try {
      const buf = Buffer.allocUnsafe(Math.min(READ, end - start));
      let pos = start;
      while (pos < end) {
        const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) throw changed('the server file is shorter than its stamp says');
        if (cancelled()) throw Object.assign(new Error('cancelled'), { code: 'ECANCELED' });
        let done = 0;
        while (done < bytesRead) {
          const { bytesWritten } = await to.write(buf, done, bytesRead - done, pos + done);
          done += bytesWritten;
        }
        pos += bytesRead;
        progress(pos - start);
      }
      await to.datasync();
    } finally {
      await to.close();
    }
    return end - start;
  } finally {
    await from.close();
  }
}

/**
 * The whole of `src` copied over `dst` (a placeholder) in one request, if it has at most `max`
 * bytes: written, cut to its size, given its mtime, then fsynced once, so the daemon may drop
 * the placeholder's record as soon as this answers. A small file so costs one round trip and
 * one fsync, and no range map (a fetch cut short is simply made again). Answers the server
 * file's stamp and whether it was copied (not: larger than `max`, to be fetched by ranges).
 */
export async function copyWhole(
  src: Buffer,
  dst: Buffer,
  max: number,
  progress: (bytes: number) => void = () => undefined,
  cancelled: () => boolean = () => false,
): Promise<{ stamp: ServerStamp; copied: boolean }> {
  const w = await writeWhole(src, dst, max, progress, cancelled);
  if (w.written !== undefined) {
    try {
      await w.written.sync();
    } finally {
      await w.written.close();
    }
  }
  return { stamp: w.stamp, copied: w.written !== undefined };
}

/** A local file written whole and still open: made durable (sync), then closed. */
export interface Written {
  sync(): Promise<void>;
  close(): Promise<void>;
}

const fsyncAsync = promisify(fsync);

function writtenFd(fd: number): Written {
  return {
    sync: () => fsyncAsync(fd),
    close: () => {
      closeSync(fd);
      return Promise.resolve();
    },
  };
}

/**
 * copyWhole without its fsync: `written` is `dst`, still open, complete but not yet durable
 * (the caller syncs and closes it: a batch syncs all its files at once, batch-copy.ts), and
 * `bytes` what was written (a batch stores them in the store too); both unset where `src` has
 * more than `max` bytes and nothing was written.
 */
export async function writeWhole(
  src: Buffer,
  dst: Buffer,
  max: number,
  progress: (bytes: number) => void = () => undefined,
  cancelled: () => boolean = () => false,
): Promise<{ stamp: ServerStamp; written?: Written; bytes?: Buffer }> {
  const from = await open(src, 'r');
  let buf: Buffer;
  let stamp: ServerStamp;
  try {
    const st = await from.stat({ bigint: true });
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    stamp = { size: Number(st.size), mtimeNs: st.mtimeNs };
    if (stamp.size > max) return { stamp };
    progress(0);
    buf = Buffer.allocUnsafe(stamp.size);
    let got = 0;
    while (got < stamp.size) {
      const { bytesRead } = await from.read(buf, got, stamp.size - got, got);
      if (bytesRead === 0) throw changed('the server file is shorter than its stamp says');
      got += bytesRead;
      progress(got);
    }
  } finally {
    await from.close();
  }
  if (cancelled()) throw Object.assign(new Error('cancelled'), { code: 'ECANCELED' });
  // The view is local: each of these calls costs microseconds, less than the handoff to an I/O
  // thread and back that an asynchronous call makes (what a hoard's agent spends most of its
  // CPU on, per file); only the fsync, which waits for the disk, is made there.
  const fd = openSync(dst, 'r+');
  try {
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, done);
    ftruncateSync(fd, buf.length);
    const t = timeArg(stamp.mtimeNs);
    futimesSync(fd, t, t);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return { stamp, written: writtenFd(fd), bytes: buf };
}

/** Bytes [start, start + length) of the file at `path` freed (a hole that reads as zeros). */
export async function punchHole(path: Buffer, start: number, length: number): Promise<void> {
  if (length <= 0) return;
  if (native?.punchHole === undefined) {
    throw new TetherError(
      'EIO',
      'cannot free a cached range: the native addon is not built (run "npm run build:native")',
      {},
      { errno: 'ENOTSUP' },
    );
  }
  const f = await open(path, 'r+');
  try {
    native.punchHole(f.fd, start, length);
  } finally {
    await f.close();
  }
}

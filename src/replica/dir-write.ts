// Writing the files of a directory replica: a copy from another replica's content, a new
// file from bytes, and the metadata of a fresh file, each on a temporary name that is then
// renamed over its target (dir.ts).
import { chmod, lutimes, open, utimes } from 'node:fs/promises';
import { newHasher, type ByteString, type Entry, type Hash } from '../tree/index.js';
import { timeArg } from '../scan/stamp.js';
import { setXattrs } from '../scan/xattrs.js';
import { setOwner } from './owner.js';
import type { ContentSource } from './replica.js';

const isRoot = process.getuid?.() === 0;

/**
 * Mode, owner (when running as root, and where the server allows it: owner.ts), xattrs and
 * mtime of a fresh file or symlink.
 */
export async function finishMeta(p: Buffer, entry: Entry): Promise<void> {
  if (entry.kind !== 'symlink') await chmod(p, entry.mode);
  if (isRoot) await setOwner(p, entry.uid, entry.gid);
  if (entry.kind !== 'symlink' && entry.xattrs !== undefined) await setXattrs(p, entry.xattrs);
  const t = timeArg(entry.mtimeNs);
  if (entry.kind === 'symlink') await lutimes(p, t, t);
  else await utimes(p, t, t);
}

/** Copy `fromPath` of `source` to a new file `dst` (which must not exist), hashing on the way, then fsync. */
export async function copyFrom(
  source: ContentSource,
  fromPath: ByteString,
  dst: Buffer,
): Promise<{ id: Hash; size: number }> {
  const output = await open(dst, 'wx', 0o600);
  try {
    const h = newHasher();
    const size = await source.readContent(fromPath, async (piece, pos, hole) => {
      h.update(piece);
      if (hole) return; // left unwritten: the copy keeps the hole (truncated to size below)
      let off = 0;
      while (off < piece.length) {
        off += (await output.write(piece, off, piece.length - off, pos + off)).bytesWritten;
      }
    });
    await output.truncate(size); // a trailing hole was not written
    await output.sync();
    return { id: h.digest(), size };
  } finally {
    await output.close();
  }
}

/** A new private file holding `data`, on disk before this returns (the temp of temp → rename). */
export async function writeSynced(tmp: Buffer, data: Buffer): Promise<void> {
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

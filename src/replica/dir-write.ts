// Writing the files of a directory replica: a copy from another replica's content, a new
// file from bytes, and the metadata of a fresh file, each on a temporary name that is then
// renamed over its target (dir.ts); and metadata set on a file in place.
import { chmod, lutimes, open, symlink, utimes } from 'node:fs/promises';
import {
  bytesOf,
  display,
  newHasher,
  type ByteString,
  type Entry,
  type Field,
  type Hash,
} from '../tree/index.js';
import { sameStamp, timeArg } from '../scan/stamp.js';
import { setXattrs } from '../scan/xattrs.js';
import { setOwner } from './owner.js';
import { problem, type ContentSource, type Problem } from './replica.js';

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

/**
 * A copy of the file `fromPath` of `source` at `tmp`, with `entry`'s metadata: its content id,
 * or a problem when the source's file is no longer what the plan saw.
 */
export async function makeFile(
  tmp: Buffer,
  entry: Entry,
  source: ContentSource,
  fromPath: ByteString,
): Promise<Problem | Hash> {
  const before = await source.entry(fromPath);
  const sourceMoved = problem(
    `${source.label}: ${display(fromPath)} changed since the scan; nothing was copied and it will be planned again on the next run`,
  );
  if (
    before?.kind !== 'file' ||
    (entry.id === undefined && !sameStamp(before, entry, source.mtimeWindowNs))
  ) {
    return sourceMoved;
  }
  const { id, size } = await copyFrom(source, fromPath, tmp);
  if (size !== entry.size) return sourceMoved;
  if (entry.id !== undefined ? id !== entry.id : !(await source.matches(fromPath, before))) {
    return sourceMoved;
  }
  await finishMeta(tmp, entry);
  return id;
}

/** The symlink `entry` at `tmp`, if `source` still has it at `fromPath`. */
export async function makeSymlink(
  tmp: Buffer,
  entry: Entry,
  source: ContentSource,
  fromPath: ByteString,
): Promise<Problem | undefined> {
  const have = await source.entry(fromPath);
  if (have?.kind !== 'symlink' || have.target !== entry.target) {
    return problem(
      `${source.label}: the symlink ${display(fromPath)} changed since the scan; it will be planned again on the next run`,
    );
  }
  await symlink(bytesOf(entry.target ?? ''), tmp);
  await finishMeta(tmp, entry);
  return undefined;
}

/**
 * Set `fields` of `entry` (mode, owner, xattrs, mtime) on `p`, in order; the first field that
 * is no metadata stops there and is answered.
 */
export async function setFields(
  p: Buffer,
  entry: Entry,
  fields: readonly Field[],
): Promise<Field | undefined> {
  for (const f of fields) {
    switch (f) {
      case 'mode':
        if (entry.kind !== 'symlink') await chmod(p, entry.mode);
        break;
      case 'uid':
      case 'gid':
        // A refused owner is no failure: the next scan reads back the one the server keeps.
        await setOwner(p, entry.uid, entry.gid);
        break;
      case 'xattrs':
        if (entry.kind === 'file' || entry.kind === 'dir') await setXattrs(p, entry.xattrs);
        break;
      case 'mtime': {
        const t = timeArg(entry.mtimeNs);
        if (entry.kind === 'symlink') await lutimes(p, t, t);
        else await utimes(p, t, t);
        break;
      }
      case 'kind':
      case 'content':
      case 'rdev':
      case 'links':
        return f;
    }
  }
  return undefined;
}

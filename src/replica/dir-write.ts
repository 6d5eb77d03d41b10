// Writing the files of a directory replica: a copy from another replica's content, a new
// file from bytes, and the metadata of a fresh file, each on a temporary name that is then
// renamed over its target (dir.ts); and metadata set on a file in place.
//
// A fresh file gets its owner, mode, xattrs and mtime through its open descriptor before its
// fsync: no path is looked up again, and the fsync puts them on disk with the bytes, so a
// crash after the rename never leaves the file with the temporary's mode or today's mtime.
import { readFileSync } from 'node:fs';
import { chmod, lutimes, open, symlink, utimes, type FileHandle } from 'node:fs/promises';
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
import { sourceChanged } from './refusals.js';

const isRoot = process.getuid?.() === 0;

/**
 * This process's umask, read from /proc at the first file written (process.umask() without an
 * argument sets it twice to read it, racing other threads); undefined where it cannot be read.
 * A process sets its umask once, at start (the mount daemon: 0), before it writes any file.
 */
let umask: { readonly value: number | undefined } | undefined;
function currentUmask(): number | undefined {
  umask ??= { value: readUmask() };
  return umask.value;
}
function readUmask(): number | undefined {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m === null ? undefined : parseInt(m[1]!, 8);
  } catch {
    return undefined;
  }
}

/**
 * A new file at `tmp` (which must not exist), open for writing. It is created with the mode
 * it will have where the umask leaves that mode whole (then no chmod follows: `needsChmod`),
 * never writable by others while it is written.
 */
async function create(tmp: Buffer, entry: Entry): Promise<FileHandle> {
  return open(tmp, 'wx', entry.mode & 0o755);
}

/** True when a file made by `create` for `entry` does not have its mode yet. */
function needsChmod(entry: Entry): boolean {
  const mask = currentUmask();
  return mask === undefined || (entry.mode & 0o755 & ~mask) !== entry.mode;
}

/**
 * Owner (when running as root, and where the server allows it: owner.ts), mode, xattrs and
 * mtime of the fresh file `tmp`, open as `fh`, set through the descriptor (xattrs by `tmp`: the
 * native helper never follows a last link, /proc/self/fd/N being one); the caller fsyncs after.
 * The owner comes first: a chown clears the set-id bits of a mode set before it.
 */
async function finishOpen(fh: FileHandle, tmp: Buffer, entry: Entry): Promise<void> {
  if (isRoot) await setOwner(fh, entry.uid, entry.gid);
  if (needsChmod(entry)) await fh.chmod(entry.mode);
  if (entry.xattrs !== undefined) await setXattrs(tmp, entry.xattrs);
  const t = timeArg(entry.mtimeNs);
  await fh.utimes(t, t);
}

/** Owner (as for a file) and mtime of a fresh symlink. */
export async function finishSymlink(p: Buffer, entry: Entry): Promise<void> {
  if (isRoot) await setOwner(p, entry.uid, entry.gid);
  const t = timeArg(entry.mtimeNs);
  await lutimes(p, t, t);
}

/**
 * Copy `fromPath` of `source` to a new file `dst` (which must not exist), hashing on the way,
 * give it `entry`'s metadata, then fsync.
 */
export async function copyFrom(
  source: ContentSource,
  fromPath: ByteString,
  dst: Buffer,
  entry: Entry,
): Promise<{ id: Hash; size: number }> {
  const output = await create(dst, entry);
  try {
    const h = newHasher();
    let end = 0;
    const size = await source.readContent(fromPath, async (piece, pos, hole) => {
      h.update(piece);
      if (hole) return; // left unwritten: the copy keeps the hole (see the truncate below)
      let off = 0;
      while (off < piece.length) {
        off += (await output.write(piece, off, piece.length - off, pos + off)).bytesWritten;
      }
      end = pos + piece.length;
    });
    if (end < size) await output.truncate(size); // a trailing hole was not written
    await finishOpen(output, dst, entry);
    await output.sync();
    return { id: h.digest(), size };
  } finally {
    await output.close();
  }
}

/**
 * A new file holding `data`, with `entry`'s metadata, on disk before this returns (the temp of
 * temp → rename).
 */
export async function writeSynced(tmp: Buffer, data: Buffer, entry: Entry): Promise<void> {
  const fh = await create(tmp, entry);
  try {
    await fh.writeFile(data);
    await finishOpen(fh, tmp, entry);
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
  const sourceMoved = sourceChanged(source.label, fromPath);
  if (
    before?.kind !== 'file' ||
    (entry.id === undefined && !sameStamp(before, entry, source.mtimeWindowNs))
  ) {
    return sourceMoved;
  }
  const { id, size } = await copyFrom(source, fromPath, tmp, entry);
  if (size !== entry.size) return sourceMoved;
  if (entry.id !== undefined ? id !== entry.id : !(await source.matches(fromPath, before))) {
    return sourceMoved;
  }
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
  await finishSymlink(tmp, entry);
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

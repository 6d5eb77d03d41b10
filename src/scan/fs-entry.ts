// Reading one directory entry of a replica as a tree Entry (no content id: that needs the
// content read), and the byte-path helpers every replica call uses. Paths are byte strings
// (src/tree/bytes.ts) turned into Buffers, so names that are not UTF-8 reach the kernel exact.
import { lstat, readlink } from 'node:fs/promises';
export { hashFile } from '../store/stream.js';
import { lstatSync, readlinkSync, type BigIntStats } from 'node:fs';
import { byteString, bytesOf, type ByteString, type Entry, type Kind } from '../tree/index.js';
import { kindOfMode } from './list-dir.js';

/** The absolute byte path of `path` (relative, '' = root) under `root`. */
export function fsPath(root: Buffer, path: ByteString): Buffer {
  if (path === '') return root;
  return Buffer.concat([root, Buffer.from('/'), bytesOf(path)]);
}

export function kindOf(st: BigIntStats): Kind | undefined {
  return kindOfMode(Number(st.mode));
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** lstat, or undefined when nothing is there. */
export async function lstatOrNone(p: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(p, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** The entry for what `st` describes (fields from lstat; a symlink's target read). */
export async function entryOf(
  p: Buffer,
  name: ByteString,
  st: BigIntStats,
): Promise<Entry | undefined> {
  const kind = kindOf(st);
  if (kind !== 'symlink') return entryOfSync(p, name, st);
  const target = byteString(await readlink(p, { encoding: 'buffer' }));
  return { ...entryOfSync(p, name, st, target)! };
}

/** lstat, or undefined when nothing is there (synchronous: a scan's hot path). */
export function lstatOrNoneSync(p: Buffer): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** The stat fields a tree entry is made of (an lstat's, or a listing's FileStat). */
export interface StatFields {
  readonly kind: Kind | undefined;
  /** st_mode (type bits ignored). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly rdev: number;
}

/** The tree entry of `st` (no content id); a symlink's `target` is read by the caller. */
export function entryOfFields(
  name: ByteString,
  st: StatFields,
  target?: ByteString,
): Entry | undefined {
  const kind = st.kind;
  if (kind === undefined) return undefined;
  const base = {
    name,
    kind,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtimeNs: st.mtimeNs,
  };
  switch (kind) {
    case 'file':
      return { ...base, size: st.size };
    case 'symlink':
      return { ...base, size: (target ?? '').length, target: target ?? '' };
    case 'chardev':
    case 'blockdev':
      return { ...base, size: 0, rdev: st.rdev };
    case 'dir':
    case 'fifo':
    case 'socket':
      return { ...base, size: 0 };
  }
}

/**
 * entryOf without the event loop: metadata calls on a local or attribute-cached filesystem
 * take microseconds, and a promise round trip per entry would cost more than the call.
 */
export function entryOfSync(
  p: Buffer,
  name: ByteString,
  st: BigIntStats,
  linkTarget?: ByteString,
): Entry | undefined {
  const kind = kindOf(st);
  const target =
    kind === 'symlink'
      ? (linkTarget ?? byteString(readlinkSync(p, { encoding: 'buffer' })))
      : undefined;
  const fields = {
    kind,
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
    rdev: Number(st.rdev),
  };
  return entryOfFields(name, fields, target);
}

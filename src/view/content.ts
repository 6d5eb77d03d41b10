// Opening a view's file for reading: a store blob (a blob file read in place, or a small blob
// from the database held in memory while open), or a real file. Bytes nowhere this side has
// fail with ENODATA; the handlers note why for `tether why`.
import { open, type FileHandle } from 'node:fs/promises';
import { BLOB_FILE_THRESHOLD, type Store } from '../store/store.js';
import type { Content } from './node.js';

export interface OpenContent {
  read(buf: Buffer, len: number, pos: number): Promise<number>;
  close(): Promise<void>;
}

/** A blob or file of no bytes that this side has. */
export class NoData extends Error {
  readonly code = 'ENODATA';
  constructor(readonly why: string) {
    super(why);
  }
}

function fromHandle(fh: FileHandle): OpenContent {
  return {
    read: async (buf, len, pos) => (await fh.read(buf, 0, len, pos)).bytesRead,
    close: () => fh.close(),
  };
}

function fromBytes(bytes: Buffer): OpenContent {
  return {
    read: (buf, len, pos) => {
      if (pos >= bytes.length) return Promise.resolve(0);
      return Promise.resolve(bytes.copy(buf, 0, pos, Math.min(bytes.length, pos + len)));
    },
    close: () => Promise.resolve(),
  };
}

/**
 * The bytes of `c`, opened at the first read: with the kernel's page cache warm an open is
 * never followed by a read, and then costs no file open at all. Bytes nowhere this side has
 * fail at once (at the open), so `tether why` can tell.
 */
export function openContent(store: Store, c: Content, size: number): OpenContent {
  if (c.from === 'none') throw new NoData(c.why);
  let opened: Promise<OpenContent> | undefined;
  const get = (): Promise<OpenContent> => (opened ??= openNow(store, c, size));
  return {
    read: async (buf, len, pos) => (await get()).read(buf, len, pos),
    close: async () => {
      if (opened !== undefined) await (await opened).close();
    },
  };
}

async function openNow(store: Store, c: Content, size: number): Promise<OpenContent> {
  switch (c.from) {
    case 'none':
      throw new NoData(c.why);
    case 'file':
      return fromHandle(await open(c.abs, 'r'));
    case 'blob':
      // Small blobs live in the database (verified as read); a blob file is verified when
      // written and by fsck: hashing it whole at each open would cost its size per open.
      if (size < BLOB_FILE_THRESHOLD) return fromBytes(await store.readBlob(c.id));
      return fromHandle(await open(store.blobPath(c.id), 'r'));
  }
}

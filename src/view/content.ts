// Opening a view's file for reading: a store blob (a blob file read in place, or a small blob
// from the database held in memory while open), or a real file. Bytes nowhere this side has
// fail with ENODATA; the handlers note why for `tether why`.
import { open, type FileHandle } from 'node:fs/promises';
import type { Store } from '../store/store.js';
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

export async function openContent(store: Store, c: Content): Promise<OpenContent> {
  switch (c.from) {
    case 'none':
      throw new NoData(c.why);
    case 'file':
      return fromHandle(await open(c.abs, 'r'));
    case 'blob': {
      // A blob file is verified when written and by fsck; reading it whole at each open would
      // make a view of a big file cost its whole size per open.
      const fh = await open(store.blobPath(c.id), 'r').catch(() => undefined);
      if (fh !== undefined) return fromHandle(fh);
      return fromBytes(await store.readBlob(c.id));
    }
  }
}

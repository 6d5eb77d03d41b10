// New files written in batches (restore): each file's content verified against its id, then
// the file created (never replaced), its bytes written, then owner, mode and times set on its
// descriptor, and only then given its name (a restore killed midway leaves no part of a file
// under a real name). With the native addon (native/restore.c) a batch is verified and written
// on a thread-pool thread, a few batches at once, while the caller gathers the next: the
// caller's thread only copies small contents into the batch (a store lends them briefly) and
// names the files that hold larger ones. Without it, each file is verified and written at
// once, in a few calls that do not wait (from the page cache they take microseconds, less than
// a trip through the I/O threads), under a temporary name then linked to its own.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  linkSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { timeArg } from '../scan/stamp.js';
import { corrupt } from '../store/blob-files.js';
import { loadNativeAddon } from '../store/native-addon.js';
import { hashBytes, type Hash } from '../tree/index.js';

/**
 * A file to write: where, the id its content must have, the content, and the fields set once
 * it is written. The content is bytes lent for the length of the `add` call (copied before it
 * returns), or a file holding them.
 */
export interface NewFile {
  /** A byte string (each char one byte, as latin1): a batch's paths are one string, then bytes. */
  readonly path: string;
  readonly id: Hash;
  readonly content: { readonly lent: Buffer } | { readonly file: string };
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: bigint;
}

type WriteFiles = (
  paths: Buffer,
  contents: Buffer[],
  meta: Float64Array,
  chown: boolean,
  ids: Buffer,
  sources: Buffer,
) => Promise<null | [number, number, string]>;

const META_FIELDS = 4;
const ID_BYTES = 32;

const addon = loadNativeAddon<{
  writeFilesAsync?: WriteFiles;
  writeFilesMetaFields?: number;
  writeFilesIdBytes?: number;
}>(
  (n) =>
    typeof n.writeFilesAsync === 'function' &&
    n.writeFilesMetaFields === META_FIELDS &&
    n.writeFilesIdBytes === ID_BYTES,
);

/** Files or bytes a batch holds before it is handed to a thread. */
const BATCH_FILES = 256;
const BATCH_BYTES = 4 << 20;
/** Batches written at once (the thread pool has four threads; the store's reads use them too). */
const IN_FLIGHT = 3;

const EMPTY = Buffer.alloc(0);

/** An error as node:fs would throw it for `step` on `path`. */
function fsError(errno: number, step: string, path: Buffer | string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const shown = typeof path === 'string' ? path : path.toString();
  const err: NodeJS.ErrnoException = new Error(`${code}: ${step} '${shown}'`);
  err.errno = -errno;
  err.code = code;
  err.syscall = step;
  err.path = shown;
  return err;
}

const where = (f: NewFile): string =>
  'file' in f.content ? `blob file ${f.content.file}` : 'blob';

let unnamedCount = 0;

/**
 * A temporary name for a file being written, in the directory where it goes: hidden, with this
 * process's id. A restore killed midway may leave one, never part of a file under a real name.
 */
export const unnamed = (): string => `.tether-restore-${process.pid}-${++unnamedCount}`;

function writeNow(f: NewFile, chown: boolean): void {
  const bytes = 'file' in f.content ? readFileSync(f.content.file) : f.content.lent;
  if (hashBytes(bytes) !== f.id) throw corrupt(f.id, where(f));
  // Written under a temporary name beside it, named once whole with its fields set (as the
  // native writer does with an unnamed file).
  const path = Buffer.from(f.path, 'latin1');
  const slash = path.lastIndexOf(0x2f);
  const tmp = Buffer.concat([path.subarray(0, slash + 1), Buffer.from(unnamed())]);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, bytes);
      if (chown) fchownSync(fd, f.uid, f.gid);
      fchmodSync(fd, f.mode & 0o7777);
      futimesSync(fd, timeArg(f.mtimeNs), timeArg(f.mtimeNs));
    } finally {
      closeSync(fd);
    }
    // A link, not a rename: a name already taken is refused (EEXIST), never replaced.
    linkSync(tmp, path);
  } finally {
    unlinkSync(tmp);
  }
}

/** A batch being gathered: its files, and the buffer their lent contents are copied into. */
class Batch {
  readonly files: NewFile[] = [];
  readonly contents: Buffer[] = [];
  /** Bytes of content, copied or in files: a batch is sent past BATCH_BYTES. */
  bytes = 0;
  /** BATCH_BYTES taken from `spare` (or made) at the first copy; given back once written. */
  arena: Buffer | undefined;
  private used = 0;

  constructor(private readonly spare: Buffer[]) {}

  fits(size: number): boolean {
    return this.files.length < BATCH_FILES && this.bytes + size <= BATCH_BYTES;
  }

  add(f: NewFile): void {
    this.files.push(f);
    this.bytes += f.size;
    if ('file' in f.content) {
      this.contents.push(EMPTY);
      return;
    }
    const lent = f.content.lent;
    if (lent.length > BATCH_BYTES - this.used) {
      // More than the buffer has left (bytes larger than the entry said): a copy of its own.
      this.contents.push(Buffer.from(lent));
      return;
    }
    // A buffer used before: its pages are already mapped (a new one faults each in).
    this.arena ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(BATCH_BYTES);
    const copy = this.arena.subarray(this.used, this.used + lent.length);
    lent.copy(copy);
    this.used += lent.length;
    this.contents.push(copy);
  }
}

export class FileWriter {
  /** Arenas of written batches, for the next batches. */
  private readonly spare: Buffer[] = [];
  private batch = new Batch(this.spare);
  private readonly running = new Set<Promise<void>>();
  private failure: Error | undefined;

  /** `onWritten` is called with each batch's files once they are all written. */
  constructor(
    private readonly chown: boolean,
    private readonly onWritten: (files: readonly NewFile[]) => void,
  ) {}

  /**
   * Queue a file (its lent content copied before this returns); throws a failure of a file
   * queued before. Returns undefined while there is room for more, else a promise resolving
   * once there is (not when the file is written): a restore queues thousands of files a
   * second, and most need no wait.
   */
  add(f: NewFile): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (addon === undefined) {
      writeNow(f, this.chown);
      this.onWritten([f]);
      return undefined;
    }
    if (this.batch.files.length > 0 && !this.batch.fits(f.size)) this.start();
    this.batch.add(f);
    return this.running.size >= IN_FLIGHT ? this.room() : undefined;
  }

  private async room(): Promise<void> {
    while (this.running.size >= IN_FLIGHT) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Every queued file written; throws the first failure. */
  async finish(): Promise<void> {
    if (this.batch.files.length > 0) this.start();
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  /** No batch is being written (one not yet handed to a thread is dropped); never throws. */
  async idle(): Promise<void> {
    this.batch = new Batch(this.spare);
    while (this.running.size > 0) await Promise.race(this.running).catch(() => undefined);
  }

  private start(): void {
    const { files, contents, arena } = this.batch;
    this.batch = new Batch(this.spare);
    const meta = new Float64Array(files.length * META_FIELDS);
    // The mtime field holds the int64 nanoseconds' own bytes (native/restore.c).
    const times = new BigInt64Array(meta.buffer);
    // One hex decode a batch: a Buffer write a file cost more in its calls than in decoding.
    const ids: string[] = [];
    const paths: string[] = [];
    const sources: string[] = [];
    files.forEach((f, i) => {
      const at = i * META_FIELDS;
      meta[at] = f.mode;
      meta[at + 1] = f.uid;
      meta[at + 2] = f.gid;
      times[at + 3] = f.mtimeNs;
      ids.push(f.id);
      paths.push(f.path);
      sources.push('file' in f.content ? f.content.file : '');
    });
    const p = addon!.writeFilesAsync!(
      // NUL-terminated: a path holds no NUL.
      Buffer.from(paths.join('\0') + '\0', 'latin1'),
      contents,
      meta,
      this.chown,
      Buffer.from(ids.join(''), 'hex'),
      Buffer.from(sources.join('\0') + '\0'),
    )
      .then((failed) => {
        if (failed === null) {
          // The thread is done with the batch's bytes.
          if (arena !== undefined) this.spare.push(arena);
          this.onWritten(files);
          return;
        }
        const [index, errno, step] = failed;
        const f = files[index]!;
        if (step === 'verify') this.failure ??= corrupt(f.id, where(f));
        else if (step === 'source' && 'file' in f.content)
          this.failure ??= fsError(errno, 'open', f.content.file);
        else this.failure ??= fsError(errno, step, Buffer.from(f.path, 'latin1'));
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}

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

/** The fields of a file to write, set once it is written (a tree entry has them all). */
export interface FileFields {
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: bigint;
}

/**
 * A file's content: bytes lent for the length of the `add` call (copied before it returns),
 * or the path of a file holding them.
 */
export type Content = Buffer | string;

type WriteFiles = (
  paths: Buffer,
  arena: Buffer,
  spans: Float64Array,
  meta: Float64Array,
  chown: boolean,
  ids: Buffer,
  sources: Buffer,
) => Promise<null | [number, number, string]>;

const META_FIELDS = 4;
const ID_BYTES = 32;
/** Numbers a file in a batch's spans: where its lent content starts in the arena, and its length. */
const SPAN_FIELDS = 2;

const addon = loadNativeAddon<{
  writeFilesAsync?: WriteFiles;
  writeFilesMetaFields?: number;
  writeFilesIdBytes?: number;
  writeFilesSpanFields?: number;
}>(
  (n) =>
    typeof n.writeFilesAsync === 'function' &&
    n.writeFilesMetaFields === META_FIELDS &&
    n.writeFilesIdBytes === ID_BYTES &&
    n.writeFilesSpanFields === SPAN_FIELDS,
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

const where = (source: string): string => (source === '' ? 'blob' : `blob file ${source}`);

let unnamedCount = 0;

/**
 * A temporary name for a file being written, in the directory where it goes: hidden, with this
 * process's id. A restore killed midway may leave one, never part of a file under a real name.
 */
export const unnamed = (): string => `.tether-restore-${process.pid}-${++unnamedCount}`;

function writeNow(path: string, id: Hash, f: FileFields, content: Content, chown: boolean): void {
  const bytes = typeof content === 'string' ? readFileSync(content) : content;
  if (hashBytes(bytes) !== id) throw corrupt(id, where(typeof content === 'string' ? content : ''));
  // Written under a temporary name beside it, named once whole with its fields set (as the
  // native writer does with an unnamed file).
  const name = Buffer.from(path, 'latin1');
  const slash = name.lastIndexOf(0x2f);
  const tmp = Buffer.concat([name.subarray(0, slash + 1), Buffer.from(unnamed())]);
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
    linkSync(tmp, name);
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * A batch being gathered, in the form the native writer takes: paths, ids and sources as
 * strings joined once it is sent, numbers in typed arrays, and lent contents copied into one
 * buffer (no object a file: a restore queues tens of thousands).
 */
class Batch {
  count = 0;
  /** Bytes of content, copied or in files: a batch is sent past BATCH_BYTES. */
  bytes = 0;
  readonly paths: string[] = [];
  readonly ids: string[] = [];
  /** A file holding each file's content, or '' where it was lent (copied to the arena). */
  readonly sources: string[] = [];
  readonly meta = new Float64Array(BATCH_FILES * META_FIELDS);
  /** The mtime field holds the int64 nanoseconds' own bytes (native/restore.c). */
  readonly times = new BigInt64Array(this.meta.buffer);
  readonly spans = new Float64Array(BATCH_FILES * SPAN_FIELDS);
  /** Taken from `spare` (or made) at the first copy; given back once written. */
  arena: Buffer = EMPTY;
  private used = 0;

  constructor(private readonly spare: Buffer[]) {}

  /** Whether a file of `size` bytes, lent or not, goes in this batch. */
  fits(size: number, lent: number): boolean {
    if (this.count === 0) return true;
    if (this.count >= BATCH_FILES || this.bytes + size > BATCH_BYTES) return false;
    return lent <= BATCH_BYTES - this.used;
  }

  add(path: string, id: Hash, f: FileFields, content: Content): void {
    const i = this.count++;
    this.bytes += f.size;
    this.paths.push(path);
    this.ids.push(id);
    const at = i * META_FIELDS;
    this.meta[at] = f.mode;
    this.meta[at + 1] = f.uid;
    this.meta[at + 2] = f.gid;
    this.times[at + 3] = f.mtimeNs;
    if (typeof content === 'string') {
      this.sources.push(content);
      return;
    }
    this.sources.push('');
    const n = content.length;
    if (this.arena === EMPTY) {
      // A buffer used before: its pages are already mapped (a new one faults each in). Bytes
      // larger than a batch (more than the entry said) are this batch's alone (fits).
      this.arena =
        n > BATCH_BYTES
          ? Buffer.allocUnsafeSlow(n)
          : (this.spare.pop() ?? Buffer.allocUnsafeSlow(BATCH_BYTES));
    }
    content.copy(this.arena, this.used, 0, n);
    this.spans[i * SPAN_FIELDS] = this.used;
    this.spans[i * SPAN_FIELDS + 1] = n;
    this.used += n;
  }
}

export class FileWriter {
  /** Arenas of written batches, for the next batches. */
  private readonly spare: Buffer[] = [];
  private batch = new Batch(this.spare);
  private readonly running = new Set<Promise<void>>();
  private failure: Error | undefined;

  /** `onWritten` is called with each batch's count of files and bytes once they are written. */
  constructor(
    private readonly chown: boolean,
    private readonly onWritten: (files: number, bytes: number) => void,
  ) {}

  /**
   * Queue file `path` (a byte string: each char one byte) with `f`'s fields and `content`,
   * which must have id `id` (lent bytes are copied before this returns); throws a failure of a
   * file queued before.
   * Returns undefined while there is room for more, else a promise resolving once there is
   * (not when the file is written): a restore queues thousands of files a second, and most
   * need no wait.
   */
  add(path: string, id: Hash, f: FileFields, content: Content): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (addon === undefined) {
      writeNow(path, id, f, content, this.chown);
      this.onWritten(1, f.size);
      return undefined;
    }
    if (!this.batch.fits(f.size, typeof content === 'string' ? 0 : content.length)) this.start();
    this.batch.add(path, id, f, content);
    return this.running.size >= IN_FLIGHT ? this.room() : undefined;
  }

  private async room(): Promise<void> {
    while (this.running.size >= IN_FLIGHT) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Every queued file written; throws the first failure. */
  async finish(): Promise<void> {
    if (this.batch.count > 0) this.start();
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  /** No batch is being written (one not yet handed to a thread is dropped); never throws. */
  async idle(): Promise<void> {
    this.batch = new Batch(this.spare);
    while (this.running.size > 0) await Promise.race(this.running).catch(() => undefined);
  }

  private start(): void {
    const b = this.batch;
    this.batch = new Batch(this.spare);
    const p = addon!.writeFilesAsync!(
      // NUL-terminated: a path holds no NUL. One string turned to bytes a batch, not a Buffer
      // write a file: the calls cost more than the encoding.
      Buffer.from(b.paths.join('\0') + '\0', 'latin1'),
      b.arena,
      b.spans,
      b.meta,
      this.chown,
      Buffer.from(b.ids.join(''), 'hex'),
      Buffer.from(b.sources.join('\0') + '\0'),
    )
      .then((failed) => {
        if (failed === null) {
          // The thread is done with the batch's bytes.
          if (b.arena.length === BATCH_BYTES) this.spare.push(b.arena);
          this.onWritten(b.count, b.bytes);
          return;
        }
        const [index, errno, step] = failed;
        const source = b.sources[index]!;
        if (step === 'verify') this.failure ??= corrupt(b.ids[index]!, where(source));
        else if (step === 'source') this.failure ??= fsError(errno, 'open', source);
        else this.failure ??= fsError(errno, step, Buffer.from(b.paths[index]!, 'latin1'));
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}

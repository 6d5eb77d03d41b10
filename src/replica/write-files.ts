// New files written in batches (restore): each file created (never replaced), its bytes
// written, then owner, mode and times set on its descriptor. With the native addon
// (native/restore.c) a batch is written on a thread-pool thread while the caller reads and
// verifies the next, a few batches at once; without it, each file in a few calls that do not
// wait (from the page cache they take microseconds, less than a trip through the I/O threads).
import { closeSync, fchmodSync, fchownSync, futimesSync, openSync, writeSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { timeArg } from '../scan/stamp.js';
import { loadNativeAddon } from '../store/native-addon.js';

/** A file to write: where, its bytes, and the fields set once they are written. */
export interface NewFile {
  readonly path: Buffer;
  readonly bytes: Buffer;
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
) => Promise<null | [number, number, string]>;

const META_FIELDS = 5;

const addon = loadNativeAddon<{ writeFilesAsync?: WriteFiles; writeFilesMetaFields?: number }>(
  (n) => typeof n.writeFilesAsync === 'function' && n.writeFilesMetaFields === META_FIELDS,
);

/** Files or bytes a batch holds before it is handed to a thread. */
const BATCH_FILES = 256;
const BATCH_BYTES = 4 << 20;
/** Batches written at once (the thread pool has four threads; the store's reads use them too). */
const IN_FLIGHT = 3;

const NS = 1_000_000_000n;

/** An error as node:fs would throw it for `step` on `path`. */
function fsError(errno: number, step: string, path: Buffer): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const shown = path.toString();
  const err: NodeJS.ErrnoException = new Error(`${code}: ${step} '${shown}'`);
  err.errno = -errno;
  err.code = code;
  err.syscall = step;
  err.path = shown;
  return err;
}

function writeNow(f: NewFile, chown: boolean): void {
  const fd = openSync(f.path, 'wx', 0o600);
  try {
    writeSync(fd, f.bytes);
    if (chown) fchownSync(fd, f.uid, f.gid);
    fchmodSync(fd, f.mode & 0o7777);
    futimesSync(fd, timeArg(f.mtimeNs), timeArg(f.mtimeNs));
  } finally {
    closeSync(fd);
  }
}

export class FileWriter {
  private files: NewFile[] = [];
  private bytes = 0;
  private readonly running = new Set<Promise<void>>();
  private failure: Error | undefined;

  /** `onWritten` is called with each batch's files once they are all written. */
  constructor(
    private readonly chown: boolean,
    private readonly onWritten: (files: readonly NewFile[]) => void,
  ) {}

  /** Queue a file; resolves once there is room for more (not when the file is written). */
  async add(f: NewFile): Promise<void> {
    if (addon === undefined) {
      writeNow(f, this.chown);
      this.onWritten([f]);
      return;
    }
    this.files.push(f);
    this.bytes += f.bytes.length;
    if (this.files.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) await this.send();
  }

  /** Every queued file written; throws the first failure. */
  async finish(): Promise<void> {
    if (this.files.length > 0) this.start();
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  private async send(): Promise<void> {
    this.start();
    while (this.running.size >= IN_FLIGHT) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  private start(): void {
    const files = this.files;
    this.files = [];
    this.bytes = 0;
    const meta = new Float64Array(files.length * META_FIELDS);
    files.forEach((f, i) => {
      const at = i * META_FIELDS;
      meta[at] = f.mode;
      meta[at + 1] = f.uid;
      meta[at + 2] = f.gid;
      // Whole seconds rounded down, nanoseconds 0..1e9-1 (a time before 1970 too).
      let ns = f.mtimeNs % NS;
      if (ns < 0n) ns += NS;
      meta[at + 3] = Number((f.mtimeNs - ns) / NS);
      meta[at + 4] = Number(ns);
    });
    const paths = Buffer.concat(files.flatMap((f) => [f.path, Buffer.of(0)]));
    const p = addon!.writeFilesAsync!(
      paths,
      files.map((f) => f.bytes),
      meta,
      this.chown,
    )
      .then((failed) => {
        if (failed === null) this.onWritten(files);
        else this.failure ??= fsError(failed[1], failed[2], files[failed[0]]!.path);
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}

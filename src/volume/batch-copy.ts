// Small files copied whole, many by one agent request (a hoard is mostly such files): each
// read from the server and written over its placeholder as copyWhole does (range-copy.ts), a
// bounded number at a time, then all of them fsynced at once (concurrent fsyncs share one
// journal commit, where one after another each waits for its own) before the answer, so the
// daemon may drop every copied file's placeholder record as soon as it has the answer. Each
// file has its own result: one file's failure (gone or unreadable on the server) is that
// file's alone, the others are copied all the same. With `keep`, each file's bytes, still in
// memory from the copy, are also stored as a blob (hashed once, read once), and its result
// carries the blob's id: the daemon then neither reads the file again nor hashes it.
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import { writeWhole, type Written } from './range-copy.js';
import type { ServerStamp } from './ranges.js';
import type { Hash } from '../tree/index.js';

export interface BatchFile {
  readonly path: Path;
  /** The remote path copied (a placeholder renamed since stands for its origin's content). */
  readonly from?: Path;
  /** A larger server file is not copied (it is fetched by ranges). */
  readonly max: number;
}

/**
 * A file's outcome: copied (or too large, `copied` false), with the id of its content where it
 * was kept as a blob, or its error's code and message.
 */
export type BatchResult =
  | { readonly stamp: ServerStamp; readonly copied: boolean; readonly id?: Hash }
  | { readonly code: string; readonly message: string };

export interface BatchHooks {
  /** Called after each read (a deadline on lack of progress). */
  readonly progress?: () => void;
  /** Asked before each write (an agent whose daemon is gone writes nothing more). */
  readonly cancelled?: () => boolean;
  /**
   * Stores a copied file's bytes as a blob and answers its id (durable once the batch has
   * answered: the caller flushes), or undefined where it leaves that file to the daemon. A
   * failure only leaves that file without an id.
   */
  readonly keep?: (bytes: Buffer) => Promise<Hash | undefined>;
}

/**
 * Files of a batch read from the server at once. With whole-batches.ts's IN_FLIGHT batches,
 * 16 files are copied at once, as many as the agent has I/O threads for beside a hoard's large
 * files (remote-io.ts): more would only queue for a thread, and a queued request's deadline
 * runs while it waits, with no progress to show.
 */
const AT_ONCE = 4;

/**
 * Every file of `files` copied from `remote` into `local` (see the header); `failed` turns a
 * file's error into its result.
 */
export async function copyBatch(
  remote: Buffer,
  local: Buffer,
  files: readonly BatchFile[],
  failed: (err: unknown) => BatchResult,
  hooks: BatchHooks = {},
): Promise<BatchResult[]> {
  const { progress = () => undefined, cancelled = () => false, keep } = hooks;
  const results: BatchResult[] = [];
  const written: { readonly i: number; readonly fh: Written }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const f = files[i]!;
      try {
        const src = fsPath(remote, f.from ?? f.path);
        const w = await writeWhole(src, fsPath(local, f.path), f.max, progress, cancelled);
        results[i] = { stamp: w.stamp, copied: w.written !== undefined };
        if (w.written !== undefined) written.push({ i, fh: w.written });
        if (keep !== undefined && w.bytes !== undefined) {
          const id = await keep(w.bytes).catch(() => undefined);
          if (id !== undefined) results[i] = { stamp: w.stamp, copied: true, id };
        }
      } catch (err) {
        results[i] = failed(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, files.length) }, worker));
  // The batch's one durability point: every file written is on disk before any is answered.
  await Promise.all(
    written.map(async ({ i, fh }) => {
      try {
        await fh.sync();
      } catch (err) {
        results[i] = failed(err);
      } finally {
        await fh.close().catch(() => undefined);
      }
    }),
  );
  return results;
}

// Fetching a placeholder's content from the remote into the local view, in place: the file
// keeps its inode (open handles, hard links and the kernel's node stay valid), is filled range
// by range (partial-fetch.ts), then takes the remote file's size and mtime, so a file fetched
// unchanged has base's stamp and is no change. A file of one range at most, nothing of it
// fetched yet, is copied and completed by one request instead (a hoard is mostly such files).
import { lstatSync } from 'node:fs';
import { open, utimes } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import { timeArg } from '../scan/stamp.js';
import { copyRange, copyWhole, serverStamp } from './range-copy.js';
import type { RangeStore } from './range-store.js';
import type { ServerStamp } from './ranges.js';
import {
  fetchRanges,
  type FetchOutcome,
  type FetchPolicy,
  type RangeSource,
} from './partial-fetch.js';

/**
 * Every missing range of the placeholder at `path` fetched, then the file completed: cut to
 * the server file's size, given its mtime, synced. The caller then drops the placeholder's
 * records (a crash before that fetches nothing again: every range is recorded).
 */
export async function fetchInPlace(
  src: RangeSource,
  maps: RangeStore,
  localRoot: Buffer,
  path: Path,
  policy: FetchPolicy,
  origin: Path = path,
): Promise<FetchOutcome> {
  const dst = fsPath(localRoot, path);
  // The view is local: one lstat costs less than a round trip through the thread pool.
  const { ino, size } = lstatSync(dst, { bigint: true });
  const recorded = maps.get(path);
  if (src.whole !== undefined && size <= policy.chunk && recorded === undefined) {
    // A small file, nothing of it fetched yet: one request copies and completes it.
    const w = await src.whole(path, policy.chunk, origin);
    if (w.copied) {
      const id = w.id === undefined ? {} : { id: w.id };
      return { stamp: w.stamp, fetched: w.stamp.size, kept: 0, restarted: false, ...id };
    }
  }
  const got = await fetchRanges(src, maps, path, ino, policy, origin);
  const f = await open(dst, 'r+');
  try {
    await f.truncate(got.stamp.size);
    await f.sync();
  } finally {
    await f.close();
  }
  const t = timeArg(got.stamp.mtimeNs);
  await utimes(dst, t, t);
  return got;
}

/** A fetch failed because of the file, not the remote: gone or changed on the server. */
export function failedForTheFile(err: unknown): boolean {
  const e = err as { remoteCode?: unknown; code?: unknown };
  const c = e.remoteCode ?? e.code;
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'EISDIR' || c === 'ECHANGED';
}

/** A log line for a fetch that resumed or started over (none for a plain one). */
export function resumedLine(name: string, got: FetchOutcome): string | undefined {
  if (got.kept === 0 && !got.restarted) return undefined;
  const how = got.restarted ? ' (started over: the server file had changed)' : '';
  return `fetched ${name}: ${String(got.fetched)} bytes, ${String(got.kept)} present already${how}`;
}

/**
 * Ranges copied by this process itself (no remote agent), each within `deadlineMs` where one is
 * given (the agent's own copies have its caller's deadline instead).
 */
export function localRangeSource(remote: Buffer, local: Buffer, deadlineMs?: number): RangeSource {
  const timed = <T>(p: Promise<T>): Promise<T> =>
    deadlineMs === undefined ? p : withDeadline(p, deadlineMs, 'fetch');
  return {
    stamp: (path: Path, from: Path = path): Promise<ServerStamp> =>
      timed(serverStamp(fsPath(remote, from))),
    copy: async (path, start, end, expect, from = path) => {
      await timed(copyRange(fsPath(remote, from), fsPath(local, path), start, end, expect));
    },
    whole: (path, max, from = path) =>
      timed(copyWhole(fsPath(remote, from), fsPath(local, path), max)),
  };
}

/** `p`, or a rejection once `ms` have passed (the work itself cannot be stopped, only left). */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

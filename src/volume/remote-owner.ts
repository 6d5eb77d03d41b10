// A chown through the mount while online is made on the server first. Metadata operations
// reach the remote at once (the mount behaves like the share), and a share that will not let
// this user give a file that owner (root squashed, a login as another user) refuses the caller
// as the share itself would (EPERM or EACCES): otherwise the owner would show in the mount until
// the next sync quietly put the server's back. A path the server does not have (made here and
// not flushed yet) is left to the flush. Any other failure is judged by the per-file rule
// (remote-fault.ts): one the server answers for this file alone, while it answers a fresh probe
// of its root, fails this chown (EIO) and the volume stays online; a server that does not answer
// takes the volume offline, and the chown is made in the cache as every offline change is.
import { lchown } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import type { Entry } from '../tree/index.js';
import { failedForTheFile } from './fetch.js';
import { faultOf } from './remote-fault.js';
import type { RemoteIo } from './remote-io.js';
import type { Mode } from './volume-mode.js';

export interface OwnerTarget {
  readonly mode: Mode;
  readonly remote: string;
  readonly remoteIo: RemoteIo | undefined;
  baseEntry(path: Path): Entry | undefined;
  goOffline(reason: string): Promise<void>;
  /** Resolves when the server itself answers now (remote-fault.ts). */
  serverAnswers(): Promise<void>;
  describe(path: Path): string;
}

const REFUSED = new Set(['EPERM', 'EACCES']);

/** Before a chown of `path` (-1: that id unchanged): the server's own, where it has the path. */
export async function ownerOnServer(
  v: OwnerTarget,
  path: Path,
  uid: number,
  gid: number,
): Promise<void> {
  if (v.mode !== 'online' || v.baseEntry(path) === undefined) return;
  try {
    if (v.remoteIo !== undefined) await v.remoteIo.owner(path, uid, gid);
    else await lchown(fsPath(Buffer.from(v.remote), path), uid, gid);
  } catch (err) {
    if (failedForTheFile(err)) return;
    const code =
      (err as { remoteCode?: unknown; code?: unknown }).remoteCode ??
      (err as { code?: unknown }).code;
    if ((await faultOf(err, () => v.serverAnswers())) === 'file') {
      if (typeof code === 'string' && REFUSED.has(code)) {
        throw new TetherError(
          'EAUTH',
          `the server refused to change the owner of ${v.describe(path)}`,
          {},
          { errno: code, cause: err },
        );
      }
      throw new TetherError(
        'EIO',
        `the server failed to change the owner of ${v.describe(path)}: ${(err as Error).message} (the server answers: this file alone failed, the volume stays online)`,
        { path },
        { errno: 'EIO', cause: err },
      );
    }
    await v.goOffline(
      `changing the owner of ${v.describe(path)} failed: ${(err as Error).message}`,
    );
  }
}

// A chown through the mount while online is made on the server first. Metadata operations
// reach the remote at once (the mount behaves like the share), and a share that will not let
// this user give a file that owner (root squashed, a login as another user) refuses the caller
// with EPERM, as the share itself would: otherwise the owner would show in the mount until the
// next sync quietly put the server's back. A path the server does not have (made here and not
// flushed yet) is left to the flush; a server that does not answer takes the volume offline,
// and the chown is made in the cache as every offline change is.
import { lchown } from 'node:fs/promises';
import { AgentCallError } from '../agent/client.js';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import type { Entry } from '../tree/index.js';
import { failedForTheFile } from './fetch.js';
import type { RemoteIo } from './remote-io.js';
import type { Mode } from './volume-mode.js';

export interface OwnerTarget {
  readonly mode: Mode;
  readonly remote: string;
  readonly remoteIo: RemoteIo | undefined;
  baseEntry(path: Path): Entry | undefined;
  goOffline(reason: string): Promise<void>;
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
    const code =
      (err as { remoteCode?: unknown; code?: unknown }).remoteCode ??
      (err as { code?: unknown }).code;
    if (typeof code === 'string' && REFUSED.has(code)) {
      throw new TetherError(
        'EAUTH',
        `the server refused to change the owner of ${v.describe(path)}`,
        {},
        { errno: 'EPERM', cause: err },
      );
    }
    if (failedForTheFile(err)) return;
    if (err instanceof AgentCallError && !err.transport) throw err;
    await v.goOffline(
      `changing the owner of ${v.describe(path)} failed: ${(err as Error).message}`,
    );
  }
}

// Whose failure a failed call on the remote is (DESIGN decision 2): one file's — the server
// answers, but not for this path (a read failing on the server's disk, a file this user may
// not read, a stale handle) — or the remote's (no answer within the deadline, the agent gone,
// the server failing everything). Only the remote's takes the volume offline; a file's fails
// the request that met it, and the rest of the volume goes on online.
//
// The rule cannot take a dead server for a bad file: an error the agent answered is the file's
// only if, after it, the server answers a probe of its root within the metadata deadline, and
// the probe asks the server itself (statfs), not what a network filesystem may answer from its
// caches. A call cut here (a deadline missed, the agent dead) is the remote's without a probe:
// the server did not answer it, and a probe would keep the request waiting a second deadline.
import { readdir, stat, statfs } from 'node:fs/promises';
import { AgentCallError } from '../agent/client.js';

export type Fault = 'file' | 'remote';

/** The call was cut by the daemon (no answer came), rather than answered with an error. */
function wasCut(err: unknown): boolean {
  if (err instanceof AgentCallError) return err.cut;
  // A call made in-process: an error the system answered carries its errno name; a deadline's
  // rejection (fetch.ts, withDeadline) carries none.
  return typeof (err as { code?: unknown }).code !== 'string';
}

/** Whose failure `err` is: `probe` resolves when the server answers now (see the header). */
export async function faultOf(err: unknown, probe: () => Promise<void>): Promise<Fault> {
  if (wasCut(err)) return 'remote';
  try {
    await probe();
    return 'file';
  } catch {
    return 'remote';
  }
}

/**
 * The remote's root is a directory that can be listed (its entries counted; with `list`
 * false, not listed); `fresh`: and the server answers statfs, which no client cache answers
 * for it.
 */
export async function askRoot(
  remote: string,
  fresh: boolean,
  list = true,
): Promise<number | undefined> {
  const st = await stat(remote);
  if (!st.isDirectory()) {
    throw Object.assign(new Error(`${remote} is not a directory`), { code: 'ENOTDIR' });
  }
  if (fresh) await statfs(remote);
  return list ? (await readdir(remote)).length : undefined;
}

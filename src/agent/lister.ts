// The Lister port over the remote agent's IPC (DESIGN decisions 2 and 15): each call a request
// that the agent answers with the directory lister of the remote, each within a deadline, so a
// scan of the server made from a daemon never touches the server from the daemon's process.
// Both sides are here: the agent's operations (LISTER_OPS, served by ops.ts) and the daemon's
// Lister over an AgentClient. A path's own error travels as the system error it was (its
// code: ENOENT, ENOTDIR...), as the Lister port says; a missed deadline or a lost agent is the
// client's transport error (AgentCallError).
import type { Path } from '../merge/plan.js';
import { dirLister, type Lister } from '../scan/lister.js';
import { DirListing, type EarlierListing } from '../scan/list-dir.js';
import type { ByteString, Hash, Xattr } from '../tree/index.js';
import { AgentCallError, type AgentClient } from './client.js';
import type { Operation } from './serve.js';

interface ListerArgs {
  /** The remote's root, as the agent names it. */
  readonly remote: string;
  readonly path: Path;
}

interface ListArgs extends ListerArgs {
  readonly xattrs: boolean;
  readonly old?: EarlierListing;
}

/** A Buffer over what structured cloning hands over (a Uint8Array), without a copy. */
const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

const at = (args: unknown): [Lister, Path] => {
  const a = args as ListerArgs;
  return [dirLister(a.remote), a.path];
};

/** The agent's side: the remote's directory lister, call by call. */
export const LISTER_OPS: Readonly<Record<string, Operation>> = {
  list: async (args) => {
    const a = args as ListArgs;
    const old = a.old === undefined ? undefined : { ...a.old, listing: asBuffer(a.old.listing) };
    return (await dirLister(a.remote).list(a.path, a.xattrs, old)).raw;
  },
  readlink: (args) => {
    const [l, path] = at(args);
    return l.readlink(path);
  },
  xattrs: (args) => {
    const [l, path] = at(args);
    return l.xattrs(path);
  },
  hash: (args) => {
    const [l, path] = at(args);
    return l.hash(path);
  },
  removeTemp: async (args) => {
    const [l, path] = at(args);
    await l.removeTemp(path);
    return null;
  },
};

export interface AgentListerDeadlines {
  /** A listing, a readlink, xattrs, a removal (ms). */
  readonly metaMs: number;
  /** Reading a whole file to hash it (ms). */
  readonly hashMs: number;
}

/** The daemon's side: a Lister of `remote` whose every call the agent makes. */
export function agentLister(
  agent: AgentClient,
  remote: string,
  deadlines: AgentListerDeadlines,
): Lister {
  const call = async <T>(op: string, args: object, deadlineMs: number): Promise<T> => {
    try {
      return await agent.call<T>(op, { remote, ...args }, { deadlineMs });
    } catch (err) {
      if (!(err instanceof AgentCallError) || err.transport) throw err;
      // The path's own trouble: the system error the agent met, by its code.
      throw Object.assign(new Error(err.message), { code: err.remoteCode });
    }
  };
  return {
    list: async (path, xattrs, old) =>
      new DirListing(
        asBuffer(
          await call<Uint8Array>(
            'list',
            { path, xattrs, ...(old === undefined ? {} : { old }) },
            deadlines.metaMs,
          ),
        ),
      ),
    readlink: (path) => call<ByteString>('readlink', { path }, deadlines.metaMs),
    xattrs: async (path) => {
      const got = await call<[ByteString, Uint8Array][] | undefined>(
        'xattrs',
        { path },
        deadlines.metaMs,
      );
      return got?.map(([name, value]): Xattr => [name, asBuffer(value)]);
    },
    hash: (path) => call<Hash>('hash', { path }, deadlines.hashMs),
    removeTemp: async (path) => {
      await call('removeTemp', { path }, deadlines.metaMs);
    },
  };
}

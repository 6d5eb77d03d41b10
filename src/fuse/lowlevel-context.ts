// What the low-level requests share (lowlevel-*.ts): the addon, the handler table, the node
// table and the kernel cache lifetimes, and the handler calls as promises. A handler answers
// a negative errno; here it becomes an Errno, which the dispatcher answers (lowlevel.ts).
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Caller, Operations, Stat } from './operations.js';
import type { CheckedReads } from './checked-reads.js';
import { attrsOf, type LowLevelAddon, type Session } from './lowlevel-addon.js';
import { LIMIT } from './long-path.js';
import { ROOT, type FsNode, type NodeTable } from './nodes.js';

const ERRNO = osConstants.errno as Record<string, number>;

/**
 * A failed request, with the (positive) errno to answer. An answer, not a bug: made without a
 * stack trace (capturing one cost more than a lookup that finds no such name).
 */
export class Errno extends Error {
  readonly errno: number;
  constructor(errno: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`errno ${String(errno)}`);
    Error.stackTraceLimit = limit;
    this.errno = errno;
  }
}

export const fail = (name: string): Errno => new Errno(ERRNO[name] ?? ERRNO['EIO']!);

/** Seconds the kernel may keep what a reply told it (DESIGN decision 18). */
export interface CacheTimes {
  readonly attr: number;
  readonly entry: number;
  /** "No such name" (0: not cached). */
  readonly negative: number;
}

/** Every handler the low-level binding calls (a table lacking one cannot be mounted). */
export const HANDLER_NAMES = [
  'access',
  'statfs',
  'getattr',
  'fgetattr',
  'readdir',
  'readlink',
  'open',
  'create',
  'read',
  'write',
  'fsync',
  'release',
  'truncate',
  'ftruncate',
  'unlink',
  'rename',
  'link',
  'symlink',
  'mkdir',
  'rmdir',
  'chmod',
  'chown',
  'utimens',
  'mknod',
  'getxattr',
  'setxattr',
  'listxattr',
  'removexattr',
] as const satisfies readonly (keyof Operations)[];

/** The handler calls the low-level binding makes: every one of them must be there. */
export type Handlers = Pick<Operations, 'readdirAttrs' | 'created' | 'mayCreate' | 'ownersHere'> &
  Required<Pick<Operations, (typeof HANDLER_NAMES)[number]>>;

export function requireHandlers(ops: Operations): Handlers {
  const missing = HANDLER_NAMES.filter((k) => typeof ops[k] !== 'function');
  if (missing.length > 0) throw new Error(`the handler table lacks ${missing.join(', ')}`);
  return ops as Handlers;
}

export interface Ctx {
  readonly addon: LowLevelAddon;
  /**
   * The local view (the handlers' root), as bytes; absent when no directory is behind the
   * handlers (a view): then no descriptor is handed to the session thread (giveNodeFd, and
   * direct reads and writes in lowlevel-files.ts).
   */
  readonly root?: Buffer;
  /** Descriptors the session thread answers from, by node (see node-fds below). */
  readonly nodeFds: Map<number, { readonly fd: number; readonly owned: boolean }>;
  /** Set once mounted. */
  session?: Session;
  readonly h: Handlers;
  readonly nodes: NodeTable;
  readonly times: CacheTimes;
  /** Paths whose contents change without the view's knowledge: never cached by the kernel. */
  readonly volatile?: (path: string) => boolean;
  /** Descriptors whose reads the handlers must check (partial files): never served directly. */
  readonly checked?: CheckedReads;
  /** Creates the session thread answers itself, where it may (lowlevel-created.ts). */
  creates?: { refresh(): void };
  /**
   * A name in directory `node` went away or changed through the mount (unlink, rmdir,
   * rename): a listing being read there looks its entries up again (lowlevel-dirs.ts).
   */
  readonly namesChanged?: (node: number) => void;
}

const NO_CACHE: CacheTimes = { attr: 0, entry: 0, negative: 0 };

/** The cache lifetimes for `path` (none for a volatile one). */
export function timesFor(c: Ctx, path: string | undefined): CacheTimes {
  return path !== undefined && c.volatile?.(path) === true ? NO_CACHE : c.times;
}

/** Whether the kernel may keep `path`'s pages or listing across opens. */
export const mayKeep = (c: Ctx, path: string | undefined): boolean =>
  timesFor(c, path) !== NO_CACHE;

/** A handler's outcome as a promise: its value, or an Errno. */
export function settle<T>(start: (cb: (err: number, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => {
      if (err < 0) reject(new Errno(-err));
      else resolve(value as T);
    });
  });
}

/** read and write answer a count or a negative errno. */
export function settleCount(start: (cb: (n: number) => void) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    start((n) => {
      if (n < 0) reject(new Errno(-n));
      else resolve(n);
    });
  });
}

export const done = (start: (cb: (err: number) => void) => void): Promise<void> =>
  settle<undefined>(start).then(() => undefined);

export const statOf = (c: Ctx, p: string, caller: Caller): Promise<Stat> =>
  settle<Stat>((cb) => {
    c.h.getattr(p, cb, caller);
  });

/** The path of a node, or ENOENT (a node whose every name is gone). */
export function pathOf(c: Ctx, node: number): string {
  const p = c.nodes.pathOf(node);
  if (p === undefined) throw fail('ENOENT');
  return p;
}

export function childPathOf(c: Ctx, parent: number, name: Buffer): string {
  const p = c.nodes.childPath(parent, name);
  if (p === undefined) throw fail('ENOENT');
  return p;
}

/** Hands the kernel a node for `name` in `parent` (an entry reply counts as a lookup). */
export function entryNode(c: Ctx, parent: number, name: Buffer, st: Stat): FsNode {
  const node = c.nodes.learn(parent, name, Number(st.ino ?? 0));
  c.nodes.ref(node);
  return node;
}

/** Linux's O_PATH (node has no constant for it): a descriptor that names, not opens. */
export const O_PATH = 0o10000000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/**
 * The session thread answers for `node` from `fd` from now on (native/lowlevel_nodes.c);
 * `owned` descriptors are closed here when taken back.
 */
export function giveNodeFd(c: Ctx, node: number, fd: number, owned: boolean): void {
  if (c.session === undefined || c.root === undefined || c.nodeFds.has(node)) return;
  if (c.addon.setNodeFd(c.session, node, fd)) c.nodeFds.set(node, { fd, owned });
  else if (owned) closeSync(fd);
}

/** Take `node`'s descriptor back (before it is closed, or once the node may be another file). */
export function takeNodeFd(c: Ctx, node: number): void {
  const had = c.nodeFds.get(node);
  if (had === undefined || c.session === undefined) return;
  c.nodeFds.delete(node);
  c.addon.setNodeFd(c.session, node, -1);
  if (had.owned) closeSync(had.fd);
}

/**
 * A directory handed to the kernel (by a lookup or a readdirplus): its lookups of names it
 * lacks (every create asks one) and its getattrs (every create in it makes the kernel ask
 * one, and so does a stat of it after each listing, which leaves its atime stale) are
 * answered by the session thread from a descriptor on the view's directory. Not the root
 * (the hidden tree's name is found there) nor anything the kernel must not cache.
 */
export function keepDirFd(c: Ctx, node: FsNode, st: Pick<Stat, 'mode' | 'ino'>): void {
  if (
    c.root === undefined ||
    node.id === ROOT ||
    (st.mode & S_IFMT) !== S_IFDIR ||
    c.nodeFds.has(node.id)
  )
    return;
  const p = c.nodes.pathOf(node.id);
  if (p === undefined || timesFor(c, p) === NO_CACHE || c.times.negative <= 0) return;
  const full = Buffer.concat([c.root, Buffer.from(p, 'latin1')]);
  if (full.length >= LIMIT) return;
  let fd: number;
  try {
    fd = openSync(full, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return; // answered by JavaScript, as before
  }
  if (Number(st.ino ?? -1) !== fstatSync(fd).ino) {
    closeSync(fd); // not the directory just stat'ed: leave it to JavaScript
    return;
  }
  giveNodeFd(c, node.id, fd, true);
}

export function replyEntry(c: Ctx, req: number, parent: number, name: Buffer, st: Stat): void {
  const node = entryNode(c, parent, name, st);
  keepDirFd(c, node, st);
  // An entry the kernel did not take (the request was interrupted) is no reference.
  const t = timesFor(c, c.nodes.pathOf(node.id));
  if (c.addon.replyEntry(req, attrsOf(node.id, st), t.attr, t.entry) !== 0) {
    c.nodes.forget(node.id, 1);
  }
}

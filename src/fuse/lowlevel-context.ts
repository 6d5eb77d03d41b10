// What the low-level requests share (lowlevel-*.ts): the addon, the handler table, the node
// table and the kernel cache lifetimes, and the handler calls as promises. A handler answers
// a negative errno; here it becomes an Errno, which the dispatcher answers (lowlevel.ts).
import { constants } from 'node:os';
import type { Caller, Operations, Stat } from './binding.js';
import type { CheckedReads } from './checked-reads.js';
import { attrsOf, type LowLevelAddon, type Session } from './lowlevel-addon.js';
import type { FsNode, NodeTable } from './nodes.js';

const ERRNO = constants.errno as Record<string, number>;

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

/** The handler calls the low-level binding makes: every one of them must be there. */
export type Handlers = Pick<Operations, 'readdirAttrs'> &
  Required<
    Pick<
      Operations,
      | 'access'
      | 'statfs'
      | 'getattr'
      | 'fgetattr'
      | 'readdir'
      | 'readlink'
      | 'open'
      | 'create'
      | 'read'
      | 'write'
      | 'fsync'
      | 'release'
      | 'truncate'
      | 'ftruncate'
      | 'unlink'
      | 'rename'
      | 'link'
      | 'symlink'
      | 'mkdir'
      | 'rmdir'
      | 'chmod'
      | 'chown'
      | 'utimens'
      | 'mknod'
      | 'getxattr'
      | 'setxattr'
      | 'listxattr'
      | 'removexattr'
    >
  >;

export function requireHandlers(ops: Operations): Handlers {
  const missing = (
    [
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
    ] as const
  ).filter((k) => typeof ops[k] !== 'function');
  if (missing.length > 0) throw new Error(`the handler table lacks ${missing.join(', ')}`);
  return ops as Handlers;
}

export interface Ctx {
  readonly addon: LowLevelAddon;
  /** Set once mounted. */
  session?: Session;
  readonly h: Handlers;
  readonly nodes: NodeTable;
  readonly times: CacheTimes;
  /** Paths whose contents change without the view's knowledge: never cached by the kernel. */
  readonly volatile?: (path: string) => boolean;
  /** Descriptors whose reads the handlers must check (partial files): never served directly. */
  readonly checked?: CheckedReads;
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
  const node = c.nodes.learn(parent, name, BigInt(st.ino ?? 0));
  c.nodes.ref(node);
  return node;
}

export function replyEntry(c: Ctx, req: number, parent: number, name: Buffer, st: Stat): void {
  const node = entryNode(c, parent, name, st);
  // An entry the kernel did not take (the request was interrupted) is no reference.
  const t = timesFor(c, c.nodes.pathOf(node.id));
  if (c.addon.replyEntry(req, attrsOf(node.id, st), t.attr, t.entry) !== 0) {
    c.nodes.forget(node.id, 1);
  }
}

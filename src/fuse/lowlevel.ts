// Mounting a handler table through tether's own libfuse 3 low-level binding (DESIGN decisions
// 17, 18, 21; native/lowlevel*.c). Requests arrive keyed by node id; the node table
// (nodes.ts) turns them into the paths the handler layer (handlers.ts) takes, so both bindings
// drive the same handlers. Replies carry long cache lifetimes: the kernel answers stat, lookup
// and cached reads itself, and `invalidate` tells it what the volume changed underneath.
import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import type { Caller, Operations, Stat } from './operations.js';
import type { CheckedReads } from './checked-reads.js';
import { loadLowLevel, OP, type RequestHandler, type Session } from './lowlevel-addon.js';
import {
  Errno,
  requireHandlers,
  settle,
  takeNodeFd,
  type CacheTimes,
  type Ctx,
  type Handlers,
} from './lowlevel-context.js';
import { DirectCreates } from './lowlevel-created.js';
import { Listings } from './lowlevel-dirs.js';
import * as E from './lowlevel-entries.js';
import * as F from './lowlevel-files.js';
import { RequestTrace } from './lowlevel-trace.js';
import { NodeTable, ROOT } from './nodes.js';

/** An hour: correct because every change the kernel did not make itself is invalidated. */
export const LONG_CACHE: CacheTimes = { attr: 3600, entry: 3600, negative: 3600 };

export interface LowLevelOptions {
  /**
   * The local directory the handlers pass through to (its root is the mount's root): the
   * session thread then answers some requests from it itself. Absent for a table with no
   * directory behind it (a read-only view): every request goes to the handlers, and the
   * root's inode is the one their getattr answers.
   */
  readonly root?: string;
  readonly fsname: string;
  readonly allowOther: boolean;
  /** Mounted read-only: the kernel answers EROFS to every write. */
  readonly readOnly?: boolean;
  readonly times?: CacheTimes;
  readonly log?: (line: string) => void;
  /** Paths (as the handlers see them) the kernel must not cache: see Ctx.volatile. */
  readonly volatile?: (path: string) => boolean;
  /** Descriptors whose reads go through the handlers: see Ctx.checked. */
  readonly checked?: CheckedReads;
}

export interface LowLevelMount {
  readonly mountpoint: string;
  /** Tell the kernel that `path` (a tree path; '' the root) changed underneath it. */
  invalidate(path: Path): void;
  /** The tree paths ('' the root) of every node the kernel holds: all it may have cached. */
  cached(): Path[];
  /** Resolves once the calls queued before it are taken by JavaScript (VolumeMount.settled). */
  settled(deadlineMs?: number): Promise<void>;
  /** The handlers may answer mayCreate or ownersHere otherwise now. */
  asked(): void;
  /** Unmounts (lazily, if busy); rejects if that does not finish within deadlineMs. */
  unmount(deadlineMs?: number): Promise<void>;
  /** Nodes the kernel holds (for tests). */
  readonly nodeCount: number;
}

const num = (v: number | Buffer | Float64Array): number => (typeof v === 'number' ? v : 0);
const bytes = (v: number | Buffer): Buffer => (typeof v === 'number' ? Buffer.alloc(0) : v);
const values = (v: number | Float64Array): Float64Array =>
  typeof v === 'number' ? new Float64Array(8) : v;

function fusermount(args: string[], ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('fusermount3', args, { timeout: ms }, (err) => {
      if (err) reject(new Error(err.message));
      else resolve();
    });
  });
}

export async function mountLowLevel(
  mountpoint: string,
  ops: Operations,
  o: LowLevelOptions,
): Promise<LowLevelMount> {
  const addon = loadLowLevel();
  if (addon === undefined) {
    throw new Error('the low-level FUSE binding is not built here (it needs libfuse3-dev)');
  }
  const log = o.log ?? (() => undefined);
  const h = requireHandlers(ops);
  const rootIno =
    o.root === undefined
      ? Number((await statOfRoot(h)).ino ?? 1)
      : Number((await lstat(o.root, { bigint: true })).ino);
  const nodeFds: Ctx['nodeFds'] = new Map();
  const c: Ctx = {
    addon,
    ...(o.root === undefined ? {} : { root: Buffer.from(o.root) }),
    nodeFds,
    h,
    nodes: new NodeTable(rootIno, (id) => {
      takeNodeFd(c, id);
      dirs.forgotten(id);
    }),
    times: o.times ?? LONG_CACHE,
    ...(o.volatile === undefined ? {} : { volatile: o.volatile }),
    ...(o.checked === undefined ? {} : { checked: o.checked }),
    namesChanged: (node) => {
      dirs.invalidated(node);
    },
  };
  const dirs = new Listings(c);
  const creates = new DirectCreates(c);
  const trace = RequestTrace.fromEnv();
  let inflight = 0;
  let exited = false;
  let destroyed = false;
  let onExit: () => void = () => undefined;
  const exit = new Promise<void>((r) => (onExit = r));
  const held: { session?: Session } = {};
  const destroyIfIdle = (): void => {
    if (!exited || destroyed || inflight > 0 || held.session === undefined) return;
    destroyed = true;
    addon.destroy(held.session);
  };
  const handler: RequestHandler = (op, req, ino, a1, a2, a3, a4, uid, gid, pid, umask) => {
    if (op === OP.exit) {
      creates.stop();
      if (trace !== undefined) {
        log(`requests: ${trace.report()}`);
        if (held.session !== undefined)
          log(`at the kernel: ${RequestTrace.kernelReport(addon.kernelCounts(held.session))}`);
      }
      exited = true;
      onExit();
      destroyIfIdle();
      return;
    }
    if (op === OP.forget) {
      c.nodes.forget(ino, num(a1));
      return;
    }
    inflight++;
    const traced = trace?.start(op);
    const who: Caller = { uid, gid, pid, umask };
    let work: Promise<void>;
    try {
      work =
        op === OP.created
          ? creates.created(ino, bytes(a1), num(a2), num(a3), a4, who)
          : dispatch(c, dirs, op, req, ino, [a1, a2, a3, a4], who);
    } catch (err) {
      work = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    work
      .catch((err: unknown) => {
        const errno = errnoOf(err, log);
        if (req !== 0) addon.replyErr(req, errno);
      })
      .finally(() => {
        traced?.();
        inflight--;
        destroyIfIdle();
      })
      .catch(() => undefined);
  };
  const opts = [`fsname=${o.fsname}`, 'subtype=tether', 'default_permissions'];
  if (o.allowOther) opts.push('allow_other');
  if (o.readOnly === true) opts.push('ro');
  const s = addon.mount(mountpoint, opts.join(','), handler);
  held.session = s;
  c.session = s;
  addon.setTimes(s, c.times.attr, c.times.negative);
  if (DirectCreates.usable(c)) {
    c.creates = creates;
    creates.start();
  }
  return {
    mountpoint,
    get nodeCount() {
      return c.nodes.size;
    },
    invalidate: (path) => {
      if (exited) return;
      // After the created calls made so far: a file just made is in the table, with its node.
      creates.afterCreated(() => {
        if (!exited) invalidatePath(c, dirs, s, path);
      });
    },
    cached: () => c.nodes.paths().map((p) => p.slice(1)),
    asked: () => {
      if (!exited) c.creates?.refresh();
    },
    settled: (ms = SETTLE_MS) =>
      settledBefore(() => (exited ? undefined : addon.callsCounted(s)), ms),
    unmount: async (ms = 5000) => {
      if (!exited) {
        await fusermount(['-u', mountpoint], ms).catch(() => fusermount(['-uz', mountpoint], ms));
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`the session at ${mountpoint} did not end within ${String(ms)} ms`));
        }, ms);
      });
      await Promise.race([exit, late]).finally(() => {
        clearTimeout(timer);
      });
    },
  };
}

/** The longest a control request waits for the calls queued before it. */
const SETTLE_MS = 2000;

/**
 * Resolves once JavaScript has taken every call queued before now (`counted`: [queued, taken],
 * undefined once the session ended), or after `ms`. A call's handler notes what it changed as
 * it is taken (a release notes its file written before any await), so only the taking is
 * waited for, never the requests' work: a request parked on the server, or one waiting for the
 * very command that waits here, holds nothing up.
 */
export async function settledBefore(
  counted: () => [number, number] | undefined,
  ms: number,
): Promise<void> {
  const until = Date.now() + ms;
  const upTo = counted()?.[0];
  if (upTo === undefined) return;
  // Calls are taken in queue order: once as many were taken as were queued, all those were.
  for (;;) {
    // A turn of the event loop: calls taken meanwhile ran their handlers' first steps.
    await new Promise<void>((r) => setImmediate(r));
    const now = counted();
    if (now === undefined || now[1] >= upTo || Date.now() >= until) return;
  }
}

/** The root's attributes as the handlers answer them (a table with no directory behind it). */
function statOfRoot(h: Handlers): Promise<Stat> {
  return settle<Stat>((cb) => {
    h.getattr('/', cb, {
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      pid: process.pid,
      umask: 0,
    });
  });
}

function errnoOf(err: unknown, log: (line: string) => void): number {
  if (err instanceof Errno) return err.errno;
  const code = (err as NodeJS.ErrnoException | undefined)?.errno;
  if (typeof code === 'number' && code < 0) return -code;
  log(
    `unexpected error answered EIO: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return 5; // EIO
}

/** Invalidate the node at `path`, its entry in its parent, and the parent's listing. */
function invalidatePath(c: Ctx, dirs: Listings, s: Session, path: Path): void {
  const { addon, nodes } = c;
  if (path === '') {
    dirs.invalidated(ROOT);
    addon.notifyInvalInode(s, ROOT);
    return;
  }
  const parts = path.split('/');
  let parent = ROOT;
  for (const part of parts.slice(0, -1)) {
    const n = nodes.child(parent, Buffer.from(part, 'latin1'));
    if (n === undefined) return; // the kernel never saw it: nothing cached
    parent = n.id;
  }
  const name = Buffer.from(parts[parts.length - 1]!, 'latin1');
  const node = nodes.child(parent, name);
  // The name may now be another file: the session thread no longer answers for its node.
  if (node !== undefined) takeNodeFd(c, node.id);
  addon.notifyInvalEntry(s, parent, name);
  dirs.invalidated(parent);
  addon.notifyInvalInode(s, parent);
  if (node === undefined) return;
  dirs.invalidated(node.id);
  addon.notifyInvalInode(s, node.id);
}

type Args = [number | Buffer, number | Float64Array, number | Buffer, number];

/** One request to its handler (see native/lowlevel.c's call_js for what a1–a4 hold). */
function dispatch(
  c: Ctx,
  dirs: Listings,
  op: number,
  req: number,
  ino: number,
  a: Args,
  who: Caller,
) {
  const [a1, a2, a3, a4] = a;
  switch (op) {
    case OP.lookup:
      return E.lookup(c, req, ino, bytes(a1), who);
    case OP.getattr:
      return E.getattr(c, req, ino, num(a1), who);
    case OP.setattr:
      return E.setattr(c, req, ino, num(a1), values(a2), num(a3), who);
    case OP.readlink:
      return E.readlink(c, req, ino, who);
    case OP.mknod:
      return E.mknod(c, req, ino, bytes(a1), num(a2), num(a3), who);
    case OP.mkdir:
      return E.mkdir(c, req, ino, bytes(a1), num(a2), who);
    case OP.unlink:
      return E.unlink(c, req, ino, bytes(a1), who);
    case OP.rmdir:
      return E.rmdir(c, req, ino, bytes(a1), who);
    case OP.symlink:
      return E.symlink(c, req, ino, bytes(a1), bytes(a3), who);
    case OP.rename:
      return E.rename(
        c,
        req,
        { parent: ino, name: bytes(a1) },
        { parent: num(a2), name: bytes(a3) },
        a4,
        who,
      );
    case OP.link:
      return E.link(c, req, ino, num(a2), bytes(a3), who);
    case OP.open:
      return F.open(c, req, ino, num(a1), who);
    case OP.create:
      return F.create(c, req, ino, bytes(a1), num(a2), num(a3), who);
    case OP.read:
      return F.read(c, req, ino, num(a1), num(a2), num(a3), who);
    case OP.write:
      return F.write(c, req, ino, bytes(a3), num(a2), a4, who);
    case OP.release:
      return F.release(c, ino, num(a1), who);
    case OP.fsync:
      return F.fsync(c, req, ino, num(a1), num(a2), who);
    case OP.statfs:
      return F.statfs(c, req, who);
    case OP.access:
      return F.access(c, req, ino, num(a1), who);
    case OP.getxattr:
      return F.getxattr(c, req, ino, bytes(a1), num(a2), who);
    case OP.listxattr:
      return F.listxattr(c, req, ino, num(a1), who);
    case OP.setxattr:
      return F.setxattr(c, req, ino, bytes(a1), bytes(a3), a4, who);
    case OP.removexattr:
      return F.removexattr(c, req, ino, bytes(a1), who);
    case OP.readdir:
    case OP.readdirplus:
      return dirs.readdir(req, ino, num(a1), num(a2), op === OP.readdirplus, who);
    case OP.flush:
    case OP.fsyncdir:
      c.addon.replyErr(req, 0);
      return Promise.resolve();
    default:
      c.addon.replyErr(req, 38); // ENOSYS
      return Promise.resolve();
  }
}

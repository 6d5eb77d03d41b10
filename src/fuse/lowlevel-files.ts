// The low-level requests about open files, extended attributes and the file system: each goes
// to the handler layer by path (and descriptor) and answers through the addon. A file's pages
// stay cached across opens (keep_cache): the mount's own writes keep them right, and what the
// volume changes underneath is invalidated (lowlevel.ts).
import { O_ACCMODE, type Caller, type Statfs } from './operations.js';
import { attrsOf, OPEN_DIRECT_IO, OPEN_KEEP_CACHE } from './lowlevel-addon.js';
import {
  childPathOf,
  done,
  entryNode,
  fail,
  giveNodeFd,
  pathOf,
  settle,
  settleCount,
  takeNodeFd,
  type Ctx,
  mayKeep,
} from './lowlevel-context.js';
import type { Stat } from './operations.js';
import { fdsOf } from './nodes.js';

/** From now on the session thread reads and writes fd itself (native/lowlevel_direct.c). */
function direct(c: Ctx, fd: number): void {
  // Only a real descriptor of the directory behind the handlers (a view's are its own numbers).
  if (c.session !== undefined && c.root !== undefined) c.addon.setDirect(c.session, fd, true);
}

/**
 * Before fsync and release: a file written by the session thread is told to the handler
 * layer as a write of no bytes (it marks the descriptor written; the change is then noted).
 */
async function noteDirectWrites(c: Ctx, ino: number, fd: number, who: Caller): Promise<void> {
  if (c.session === undefined || !c.addon.takeWritten(c.session, fd)) return;
  const p = c.nodes.pathOf(ino) ?? null;
  await settleCount((cb) => {
    c.h.write(p, fd, Buffer.alloc(0), 0, 0, cb, who);
  });
}

export async function open(c: Ctx, req: number, ino: number, flags: number, who: Caller) {
  const fd = await settle<number>((cb) => {
    c.h.open(pathOf(c, ino), flags, cb, who);
  });
  const opened = c.nodes.get(ino);
  if (opened !== undefined) fdsOf(opened).add(fd);
  let flagsOut: number;
  if (c.checked?.has(fd) === true) {
    // A partial file: every read reaches the handlers as asked (no pages kept or read ahead,
    // so no hole's zeros are ever taken for content).
    flagsOut = OPEN_DIRECT_IO;
  } else {
    direct(c, fd);
    flagsOut = mayKeep(c, c.nodes.pathOf(ino)) ? OPEN_KEEP_CACHE : 0;
    // Opened to write: as for a file just created, the kernel asks security.capability before
    // each write, and getattrs around them; the session thread answers them from fd.
    if ((flags & O_ACCMODE) !== 0) giveNodeFd(c, ino, fd, false);
  }
  if (c.addon.replyOpen(req, fd, flagsOut) !== 0) await closeUnanswered(c, ino, fd, who);
}

/** An open the kernel did not take (interrupted) is closed here: no release will come. */
async function closeUnanswered(c: Ctx, ino: number, fd: number, who: Caller): Promise<void> {
  if (c.nodeFds.get(ino)?.fd === fd) takeNodeFd(c, ino);
  c.nodes.get(ino)?.fds?.delete(fd);
  if (c.session !== undefined) c.addon.setDirect(c.session, fd, false);
  await done((cb) => {
    c.h.release(c.nodes.pathOf(ino) ?? null, fd, cb, who);
  }).catch(() => undefined);
}

export async function create(
  c: Ctx,
  req: number,
  parent: number,
  name: Buffer,
  mode: number,
  flags: number,
  who: Caller,
) {
  const p = childPathOf(c, parent, name);
  const fd = await settle<number>((cb) => {
    c.h.create(p, mode, flags, cb, who);
  });
  let st: Stat;
  try {
    st = await settle<Stat>((cb) => {
      c.h.fgetattr(p, fd, cb, who);
    });
  } catch (err) {
    await done((cb) => {
      c.h.release(p, fd, cb, who);
    }).catch(() => undefined);
    throw err;
  }
  const node = entryNode(c, parent, name, st);
  fdsOf(node).add(fd);
  direct(c, fd);
  // While it is open, the new file's getattr and getxattr (the kernel asks for
  // security.capability before each write) are answered by the session thread from fd.
  giveNodeFd(c, node.id, fd, false);
  c.creates?.refresh();
  const a = attrsOf(node.id, st);
  if (c.addon.replyCreate(req, a, c.times.attr, c.times.entry, fd, OPEN_KEEP_CACHE) !== 0) {
    c.nodes.forget(node.id, 1);
    await closeUnanswered(c, node.id, fd, who);
  }
}

export async function read(
  c: Ctx,
  req: number,
  ino: number,
  size: number,
  off: number,
  fd: number,
  who: Caller,
) {
  const buf = Buffer.allocUnsafe(size);
  const p = c.nodes.pathOf(ino) ?? null;
  const n = await settleCount((cb) => {
    c.h.read(p, fd, buf, size, off, cb, who);
  });
  c.addon.replyBuf(req, buf, n);
}

export async function write(
  c: Ctx,
  req: number,
  ino: number,
  data: Buffer,
  off: number,
  fd: number,
  who: Caller,
) {
  const p = c.nodes.pathOf(ino) ?? null;
  const n = await settleCount((cb) => {
    c.h.write(p, fd, data, data.length, off, cb, who);
  });
  c.addon.replyWrite(req, n);
}

/**
 * A release: the session thread answered it already and sends it as a note, ahead of every
 * later request (native/lowlevel_calls.c), so nothing is replied here.
 */
export async function release(c: Ctx, ino: number, fd: number, who: Caller) {
  // The session thread stopped answering for the node from fd before it sent the release.
  if (c.nodeFds.get(ino)?.fd === fd) c.nodeFds.delete(ino);
  c.nodes.get(ino)?.fds?.delete(fd);
  if (c.session !== undefined) c.addon.setDirect(c.session, fd, false);
  await noteDirectWrites(c, ino, fd, who);
  await done((cb) => {
    c.h.release(c.nodes.pathOf(ino) ?? null, fd, cb, who);
  });
  c.creates?.refresh(); // the file's bytes are counted now
}

export async function fsync(
  c: Ctx,
  req: number,
  ino: number,
  fd: number,
  datasync: number,
  who: Caller,
) {
  await noteDirectWrites(c, ino, fd, who);
  await done((cb) => {
    c.h.fsync(c.nodes.pathOf(ino) ?? null, datasync, fd, cb, who);
  });
  c.addon.replyErr(req, 0);
}

export async function statfs(c: Ctx, req: number, who: Caller) {
  const s = await settle<Statfs>((cb) => {
    c.h.statfs('/', cb, who);
  });
  const v = [s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.favail, s.namemax];
  c.addon.replyStatfs(req, Float64Array.from(v, Number));
}

export async function access(c: Ctx, req: number, ino: number, mask: number, who: Caller) {
  await done((cb) => {
    c.h.access(pathOf(c, ino), mask, cb, who);
  });
  c.addon.replyErr(req, 0);
}

/** A value for getxattr/listxattr: its size when asked for 0 bytes, ERANGE when it does not fit. */
function replyValue(c: Ctx, req: number, value: Buffer, size: number): void {
  if (size === 0) c.addon.replyXattr(req, value.length);
  else if (value.length > size) throw fail('ERANGE');
  else c.addon.replyBuf(req, value, value.length);
}

export async function getxattr(
  c: Ctx,
  req: number,
  ino: number,
  name: Buffer,
  size: number,
  who: Caller,
) {
  const p = pathOf(c, ino);
  const v = await settle<Buffer | null | undefined>((cb) => {
    c.h.getxattr(p, name.toString('latin1'), 0, cb, who);
  });
  if (v === null || v === undefined) throw fail('ENODATA');
  replyValue(c, req, v, size);
}

export async function listxattr(c: Ctx, req: number, ino: number, size: number, who: Caller) {
  const names = await settle<string[]>((cb) => {
    c.h.listxattr(pathOf(c, ino), cb, who);
  });
  const bytes = Buffer.concat(names.map((n) => Buffer.from(`${n}\0`, 'latin1')));
  replyValue(c, req, bytes, size);
}

export async function setxattr(
  c: Ctx,
  req: number,
  ino: number,
  name: Buffer,
  value: Buffer,
  flags: number,
  who: Caller,
) {
  const p = pathOf(c, ino);
  await done((cb) => {
    c.h.setxattr(p, name.toString('latin1'), value, 0, flags, cb, who);
  });
  c.addon.replyErr(req, 0);
}

export async function removexattr(c: Ctx, req: number, ino: number, name: Buffer, who: Caller) {
  await done((cb) => {
    c.h.removexattr(pathOf(c, ino), name.toString('latin1'), cb, who);
  });
  c.addon.replyErr(req, 0);
}

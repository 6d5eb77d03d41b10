// The low-level requests about names and attributes: lookup, getattr, setattr, readlink, and
// the requests that make or remove a name. Each goes to the path-keyed handler layer through
// the node table (nodes.ts) and answers with the node and its attributes, valid for the
// mount's long cache lifetimes (lowlevel.ts invalidates what the volume changes).
import type { Caller, Stat, Timespec } from './operations.js';
import { UTIME_NOW, UTIME_OMIT } from './operations.js';
import { attrsOf, SET } from './lowlevel-addon.js';
import {
  childPathOf,
  done,
  fail,
  pathOf,
  replyEntry,
  settle,
  statOf,
  takeNodeFd,
  timesFor,
  type Ctx,
} from './lowlevel-context.js';

/** rename(2) flags. */
const RENAME_NOREPLACE = 1;

export async function lookup(c: Ctx, req: number, parent: number, name: Buffer, who: Caller) {
  const p = childPathOf(c, parent, name);
  let st: Stat;
  try {
    st = await statOf(c, p, who);
  } catch (err) {
    const negative = timesFor(c, p).negative;
    if ((err as { errno?: number }).errno !== fail('ENOENT').errno || negative <= 0) throw err;
    // A negative entry: node 0, remembered for the negative lifetime.
    c.addon.replyEntry(req, attrsOf(0, { mode: 0, uid: 0, gid: 0, size: 0 }), 0, negative);
    return;
  }
  replyEntry(c, req, parent, name, st);
}

/** A node's attributes: through `fh` when given, else its path, else a descriptor open on it. */
export async function attrsNow(c: Ctx, ino: number, fh: number, who: Caller): Promise<Stat> {
  const p = c.nodes.pathOf(ino);
  const fd =
    fh >= 0 ? fh : p === undefined ? c.nodes.get(ino)?.fds?.values().next().value : undefined;
  if (fd !== undefined) {
    return settle<Stat>((cb) => {
      c.h.fgetattr(p ?? null, fd, cb, who);
    });
  }
  if (p === undefined) throw fail('ENOENT');
  return statOf(c, p, who);
}

export async function getattr(c: Ctx, req: number, ino: number, fh: number, who: Caller) {
  const attrs = attrsOf(ino, await attrsNow(c, ino, fh, who));
  c.addon.replyAttr(req, attrs, timesFor(c, c.nodes.pathOf(ino)).attr);
}

const timeOf = (set: number, given: number, now: number, sec: number, nsec: number): Timespec => {
  if ((set & now) !== 0) return { sec: 0, nsec: UTIME_NOW };
  if ((set & given) !== 0) return { sec, nsec };
  return { sec: 0, nsec: UTIME_OMIT };
};

/** values: mode, uid, gid, size, atime s/ns, mtime s/ns (native/lowlevel.c's attr_array). */
export async function setattr(
  c: Ctx,
  req: number,
  ino: number,
  set: number,
  v: Float64Array,
  fh: number,
  who: Caller,
) {
  const [mode = 0, uid = 0, gid = 0, size = 0, as = 0, ans = 0, ms = 0, mns = 0] = v;
  const p = c.nodes.pathOf(ino);
  const path = (): string => {
    if (p === undefined) throw fail('ENOENT');
    return p;
  };
  if ((set & SET.mode) !== 0)
    await done((cb) => {
      c.h.chmod(path(), mode, cb, who);
    });
  if ((set & (SET.uid | SET.gid)) !== 0) {
    const u = (set & SET.uid) !== 0 ? uid : 0xffffffff;
    const g = (set & SET.gid) !== 0 ? gid : 0xffffffff;
    await done((cb) => {
      c.h.chown(path(), u, g, cb, who);
    });
  }
  if ((set & SET.size) !== 0) {
    if (fh >= 0)
      await done((cb) => {
        c.h.ftruncate(p ?? null, fh, size, cb, who);
      });
    else
      await done((cb) => {
        c.h.truncate(path(), size, cb, who);
      });
  }
  const times = SET.atime | SET.mtime | SET.atimeNow | SET.mtimeNow;
  if ((set & times) !== 0) {
    const a = timeOf(set, SET.atime, SET.atimeNow, as, ans);
    const m = timeOf(set, SET.mtime, SET.mtimeNow, ms, mns);
    await done((cb) => {
      c.h.utimens(path(), a, m, cb, who);
    });
  }
  const attrs = attrsOf(ino, await attrsNow(c, ino, fh, who));
  c.addon.replyAttr(req, attrs, timesFor(c, c.nodes.pathOf(ino)).attr);
}

export async function readlink(c: Ctx, req: number, ino: number, who: Caller) {
  const target = await settle<string | Buffer>((cb) => {
    c.h.readlink(pathOf(c, ino), cb, who);
  });
  c.addon.replyReadlink(req, typeof target === 'string' ? Buffer.from(target, 'latin1') : target);
}

/**
 * Make `name` in `parent` by the handler call `make` (given the new name's path) and answer
 * the new name's entry.
 */
async function makeName(
  c: Ctx,
  req: number,
  parent: number,
  name: Buffer,
  who: Caller,
  make: (p: string, cb: (err: number) => void) => void,
) {
  const p = childPathOf(c, parent, name);
  await done((cb) => {
    make(p, cb);
  });
  replyEntry(c, req, parent, name, await statOf(c, p, who));
}

export function mknod(
  c: Ctx,
  req: number,
  parent: number,
  name: Buffer,
  mode: number,
  rdev: number,
  who: Caller,
) {
  return makeName(c, req, parent, name, who, (p, cb) => {
    c.h.mknod(p, mode, rdev, cb, who);
  });
}

export function mkdir(
  c: Ctx,
  req: number,
  parent: number,
  name: Buffer,
  mode: number,
  who: Caller,
) {
  return makeName(c, req, parent, name, who, (p, cb) => {
    c.h.mkdir(p, mode, cb, who);
  });
}

export function symlink(
  c: Ctx,
  req: number,
  parent: number,
  name: Buffer,
  target: Buffer,
  who: Caller,
) {
  return makeName(c, req, parent, name, who, (p, cb) => {
    c.h.symlink(target.toString('latin1'), p, cb, who);
  });
}

export function link(
  c: Ctx,
  req: number,
  ino: number,
  newParent: number,
  newName: Buffer,
  who: Caller,
) {
  return makeName(c, req, newParent, newName, who, (dest, cb) => {
    c.h.link(pathOf(c, ino), dest, cb, who);
  });
}

/** `name` in `parent` is gone: a node with no name left is answered by JavaScript only. */
function unnamed(c: Ctx, parent: number, name: Buffer): void {
  const node = c.nodes.child(parent, name);
  c.nodes.unlinked(parent, name);
  c.namesChanged?.(parent);
  if (node !== undefined && node.names.length === 0) takeNodeFd(c, node.id);
}

export async function unlink(c: Ctx, req: number, parent: number, name: Buffer, who: Caller) {
  await done((cb) => {
    c.h.unlink(childPathOf(c, parent, name), cb, who);
  });
  unnamed(c, parent, name);
  c.addon.replyErr(req, 0);
}

export async function rmdir(c: Ctx, req: number, parent: number, name: Buffer, who: Caller) {
  await done((cb) => {
    c.h.rmdir(childPathOf(c, parent, name), cb, who);
  });
  unnamed(c, parent, name);
  c.addon.replyErr(req, 0);
}

export async function rename(
  c: Ctx,
  req: number,
  from: { parent: number; name: Buffer },
  to: { parent: number; name: Buffer },
  flags: number,
  who: Caller,
) {
  const src = childPathOf(c, from.parent, from.name);
  const dest = childPathOf(c, to.parent, to.name);
  // RENAME_EXCHANGE and the rest have no handler.
  if ((flags & ~RENAME_NOREPLACE) !== 0) throw fail('EINVAL');
  if ((flags & RENAME_NOREPLACE) !== 0) {
    const exists = await statOf(c, dest, who).then(
      () => true,
      () => false,
    );
    if (exists) throw fail('EEXIST');
  }
  await done((cb) => {
    c.h.rename(src, dest, cb, who);
  });
  const replaced = c.nodes.child(to.parent, to.name);
  c.nodes.renamed(from.parent, from.name, to.parent, to.name);
  c.namesChanged?.(from.parent);
  c.namesChanged?.(to.parent);
  if (replaced !== undefined && replaced.names.length === 0) takeNodeFd(c, replaced.id);
  c.addon.replyErr(req, 0);
}

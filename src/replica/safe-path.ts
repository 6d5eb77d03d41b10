// Reaching a path inside a replica without ever following a symlink in one of its parents
// (issue: a resumed plan wrote through `A/dd` after `dd` was swapped for a symlink to a
// directory outside A). The replica root is opened once and pinned; each parent directory is
// opened from its own parent with O_DIRECTORY|O_NOFOLLOW, and a call reaches its target as
// `/proc/self/fd/<parent fd>/<name>`: the kernel resolves the magic link to the directory the
// fd holds, not to whatever the path names now, so the name is looked up in that very
// directory (the openat() of a runtime without *at() calls). The last component is the
// caller's to treat (lstat, O_EXCL, rename and unlink never follow it).
//
// Opened parents are cached for the life of the replica object: an fd holds a directory, not
// a path, so a cached parent can never turn into a symlink. What a cache can get wrong is a
// directory that moved: this replica's own renames and removals forget the moved paths, and a
// directory someone else moves away during the run keeps receiving what was meant for it —
// inside that very directory, never through a link. Cached fds are only closed while no call
// is in flight (`hold`), so no path handed out can name a closed (or reused) descriptor.
import { close as closeCb, constants, open as openCb } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { TetherError } from '../errors.js';
import {
  bytesOf,
  display,
  lastName,
  parentOf,
  unsafeNameReason,
  type ByteString,
} from '../tree/index.js';

// Descriptors, not FileHandles: a FileHandle closes itself when collected, and these are held
// by number in the paths handed out.
const open = promisify(openCb);
const close = promisify(closeCb);

// (libuv adds O_CLOEXEC to every open.)
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;
const PARENT_FLAGS = DIR_FLAGS | constants.O_NOFOLLOW;
/** Parents kept open between calls; more are closed at the next quiet moment. */
const MAX_CACHED = 1024;

/**
 * A target that is not reached: a parent is not a plain directory any more, or a name is
 * unsafe. The message is the reason only: apply's report puts the side, action and path first.
 */
export function unsafeParent(label: string, path: ByteString, why: string): TetherError {
  return new TetherError('EUNSAFE', `${why}; tether never writes through a link in a parent`, {
    replica: label,
    path: display(path),
  });
}

/** The kernel path of `name` inside the directory open as `fd`. */
function viaFd(fd: number, name: ByteString): Buffer {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), bytesOf(name)]);
}

// Descriptors of replicas no longer referenced: closed when the replica object is collected.
const finalizer = new FinalizationRegistry<Set<Promise<number>>>((fds) => {
  for (const fd of fds) void fd.then(close, () => undefined).catch(() => undefined);
});

export class SafeRoot {
  private root: Promise<number> | undefined;
  /** Open parent directories by path ('' is the root's own entry, never closed). */
  private readonly dirs = new Map<ByteString, Promise<number>>();
  /** Every descriptor opened and not closed yet, for the finalizer. */
  private readonly open = new Set<Promise<number>>();
  private readonly retired: Promise<number>[] = [];
  private busy = 0;

  constructor(
    readonly rootPath: Buffer,
    readonly label: string,
  ) {
    finalizer.register(this, this.open);
  }

  /**
   * The path by which the kernel reaches `path` with every parent opened from the root without
   * following a link; undefined when a parent does not exist (or is a file: nothing can be
   * inside it). A parent that is a symlink throws EUNSAFE. Call only inside `hold`.
   */
  async at(path: ByteString): Promise<Buffer | undefined> {
    if (path === '') return viaFd(await this.rootFd(), '.');
    for (const name of path.split('/')) {
      const why = unsafeNameReason(name);
      if (why !== undefined) throw unsafeParent(this.label, path, `its name is unsafe (${why})`);
    }
    const fd = await this.dir(parentOf(path), path);
    return fd === undefined ? undefined : viaFd(fd, lastName(path));
  }

  /** at() for a call that needs the parent to exist: ENOENT otherwise, as the call would. */
  async need(path: ByteString): Promise<Buffer> {
    const p = await this.at(path);
    if (p !== undefined) return p;
    const err: NodeJS.ErrnoException = new Error(
      `${this.label}: the directory of ${display(path)} is gone`,
    );
    err.code = 'ENOENT';
    err.syscall = 'open';
    throw err;
  }

  /** Run `fn` with the descriptors it is handed kept open until it settles. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      if (--this.busy === 0) await this.quiet();
    }
  }

  /**
   * `path` was renamed away or removed by this replica: a cached descriptor of it, or of a
   * directory below it, now holds a directory somewhere else ('' forgets every one).
   */
  forget(path: ByteString): void {
    const below = path + '/';
    for (const [p, fd] of this.dirs) {
      if (path === '' || p === path || p.startsWith(below)) {
        this.dirs.delete(p);
        this.retired.push(fd);
      }
    }
  }

  private rootFd(): Promise<number> {
    // The root itself may be reached through a link (the user named it); it is opened once,
    // so what the run works in cannot change under it.
    this.root ??= this.track(open(this.rootPath, DIR_FLAGS));
    return this.root;
  }

  private track(fd: Promise<number>): Promise<number> {
    this.open.add(fd);
    fd.catch(() => this.open.delete(fd));
    return fd;
  }

  /** The open directory `dir` ('' = root), undefined when it is missing; `target` for errors. */
  private async dir(dir: ByteString, target: ByteString): Promise<number | undefined> {
    if (dir === '') return this.rootFd();
    let fd = this.dirs.get(dir);
    if (fd === undefined) {
      const parent = await this.dir(parentOf(dir), target);
      if (parent === undefined) return undefined;
      // Another call may have opened it while this one waited for the parent.
      fd = this.dirs.get(dir);
      if (fd === undefined) {
        fd = this.track(open(viaFd(parent, lastName(dir)), PARENT_FLAGS));
        this.dirs.set(dir, fd);
      }
    }
    try {
      return await fd;
    } catch (err) {
      if (this.dirs.get(dir) === fd) this.dirs.delete(dir);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
      // O_NOFOLLOW|O_DIRECTORY answers ENOTDIR for a link as for a file: look which it is.
      const parent = await this.dir(parentOf(dir), target);
      if (parent === undefined) return undefined;
      const st = await lstat(viaFd(parent, lastName(dir))).catch(() => undefined);
      if (st?.isSymbolicLink() !== true) return undefined;
      throw unsafeParent(this.label, target, `its parent ${display(dir)} is now a symlink`);
    }
  }

  /** Nothing in flight: close what was retired, and the cache if it grew too big. */
  private async quiet(): Promise<void> {
    if (this.dirs.size > MAX_CACHED) {
      this.retired.push(...this.dirs.values());
      this.dirs.clear();
    }
    const fds = this.retired.splice(0);
    await Promise.all(
      fds.map(async (p) => {
        this.open.delete(p);
        const fd = await p.catch(() => undefined);
        if (fd !== undefined) await close(fd).catch(() => undefined);
      }),
    );
  }
}

/**
 * Method decorator: the call runs inside its replica's `hold`, so descriptors in the paths it
 * uses stay open until it settles (a decorator, so the methods' bodies read as before).
 */
export function held<This extends { readonly safe: SafeRoot }, A extends unknown[], R>(
  method: (this: This, ...args: A) => Promise<R>,
  _context: ClassMethodDecoratorContext<This>,
): (this: This, ...args: A) => Promise<R> {
  return function (this: This, ...args: A): Promise<R> {
    return this.safe.hold(() => method.apply(this, args));
  };
}

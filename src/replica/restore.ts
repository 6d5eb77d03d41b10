// Writing a stored tree out to a new or empty directory (`tether snapshot restore`): contents,
// modes, owners (as root), times, symlinks, fifos and user xattrs. Refuses a directory that is
// not empty, and checks before writing anything that every file's content is in the store (a
// snapshot of a volume may name content that was never fetched). Devices and sockets are not
// made (MERGE.md rule T). Files of one hard-link group (entry.ts `link`) are one file again:
// the first member reached is written, the others are linked to it.
import { spawn } from 'node:child_process';
import { closeSync, fchmodSync, fchownSync, futimesSync, openSync, writeSync } from 'node:fs';
import { chmod, lchown, link, lutimes, mkdir, readdir, symlink } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import { fsPath, isMissing } from '../scan/fs-entry.js';
import { timeArg } from '../scan/stamp.js';
import { setXattrs } from '../scan/xattrs.js';
import type { Store } from '../store/store.js';
import { bytesOf, display, joinPath, type Entry, type Hash } from '../tree/index.js';

export interface RestoreProgress {
  files: number;
  bytes: number;
}

export interface RestoreResult extends RestoreProgress {
  readonly dirs: number;
  readonly symlinks: number;
  /** Paths not made (devices, sockets), with why. */
  readonly skipped: readonly { path: string; reason: string }[];
}

/** Contents read whole (verified) below this size; larger ones are streamed. */
const WHOLE = 1 << 20;
const PARALLEL = 16;
/** Paths named in the message when content is missing (the error's data has up to 100). */
const SHOWN = 20;

/** Every file's content is in the store, or an error naming what is missing and what to do. */
export function checkContents(store: Store, root: Hash): RestoreProgress {
  // Files with an id whose content is not here can still be fetched (the server's file, if
  // unchanged, has that id); files known by their stamp alone (never read) cannot be matched.
  const absent: string[] = [];
  const stampOnly: string[] = [];
  const total = { files: 0, bytes: 0 };
  const walk = (id: Hash, dir: string): void => {
    for (const e of store.readTree(id)) {
      const p = joinPath(dir, e.name);
      if (e.kind === 'dir' && e.id !== undefined) walk(e.id, p);
      if (e.kind !== 'file') continue;
      total.files++;
      total.bytes += e.size;
      if (e.id === undefined) stampOnly.push(display(p));
      else if (!store.hasBlob(e.id)) absent.push(display(p));
    }
  };
  walk(root, '');
  const count = absent.length + stampOnly.length;
  if (count > 0) {
    const list = (paths: string[]): string => {
      const more = paths.length - SHOWN;
      return paths.slice(0, SHOWN).join(', ') + (more > 0 ? ` and ${more} more` : '');
    };
    const why: string[] = [];
    if (absent.length > 0) {
      why.push(
        `${absent.length} never fetched: ${list(absent)}. To get them, with the volume mounted ` +
          'and online, run "tether hoard MOUNTPOINT" (or "tether hoard PATH...") and restore ' +
          'again: what the server still has unchanged is then in the store',
      );
    }
    if (stampOnly.length > 0) {
      why.push(
        `${stampOnly.length} known by size and time only (never read, no content id): ` +
          `${list(stampOnly)}. These cannot be found again; take a new snapshot with ` +
          '"tether snapshot take NAME MOUNTPOINT --fetch", which fetches every file first',
      );
    }
    throw new TetherError(
      'ENOTFOUND',
      `${count} files of the snapshot have no content in the store (never fetched while the ` +
        `volume was mounted); nothing was written. ` +
        why.join('. '),
      { missing: [...absent, ...stampOnly].slice(0, 100), stampOnly: stampOnly.slice(0, 100) },
    );
  }
  return total;
}

/** `dir` exists and is empty, or is made now (its parent must exist). */
async function emptyDir(dir: string): Promise<void> {
  try {
    const names = await readdir(dir);
    if (names.length > 0) {
      throw new TetherError(
        'EUSAGE',
        `${dir} is not empty: restore into a new or empty directory (nothing was written)`,
        { dir },
      );
    }
  } catch (err) {
    if (!isMissing(err)) throw err;
    await mkdir(dir);
  }
}

const mkfifo = (p: Buffer, mode: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const c = spawn('mkfifo', ['-m', mode.toString(8), p.toString('latin1')], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`mkfifo exited ${String(code)}`));
    });
  });

class Restorer {
  readonly done: RestoreProgress = { files: 0, bytes: 0 };
  dirs = 0;
  symlinks = 0;
  readonly skipped: { path: string; reason: string }[] = [];
  /** Each link group's first member, once written (set before the write starts). */
  private readonly groups = new Map<string, Promise<Buffer>>();
  private readonly asRoot = process.getuid?.() === 0;

  constructor(
    private readonly store: Store,
    private readonly root: Buffer,
    private readonly onProgress: (p: Readonly<RestoreProgress>) => void,
  ) {}

  async dir(id: Hash, path: string): Promise<void> {
    const entries = this.store.readTree(id);
    const subdirs: Entry[] = [];
    const rest: Entry[] = [];
    for (const e of entries) (e.kind === 'dir' ? subdirs : rest).push(e);
    for (let i = 0; i < rest.length; i += PARALLEL) {
      await Promise.all(rest.slice(i, i + PARALLEL).map((e) => this.leaf(e, path)));
    }
    for (const d of subdirs) {
      const p = joinPath(path, d.name);
      const abs = fsPath(this.root, p);
      await mkdir(abs, { mode: 0o700 });
      if (d.id !== undefined) await this.dir(d.id, p);
      // Its own fields last: a read-only mode or an mtime would not survive its children.
      await this.finish(abs, d);
      this.dirs++;
    }
  }

  private async leaf(e: Entry, dir: string): Promise<void> {
    const p = joinPath(dir, e.name);
    const abs = fsPath(this.root, p);
    switch (e.kind) {
      case 'file':
        if (e.link !== undefined) await this.linkedFile(abs, e, e.link);
        else if (e.size < WHOLE) await this.smallFile(abs, e);
        else {
          await this.store.writeBlobToFile(e.id!, abs, 0o600); // checkContents made sure
          await this.finish(abs, e);
        }
        this.done.files++;
        this.done.bytes += e.size;
        this.onProgress(this.done);
        return;
      case 'symlink':
        await symlink(bytesOf(e.target ?? ''), abs);
        if (this.asRoot) await lchown(abs, e.uid, e.gid);
        this.symlinks++;
        return lutimes(abs, timeArg(e.mtimeNs), timeArg(e.mtimeNs));
      case 'fifo':
        await mkfifo(abs, e.mode);
        return this.finish(abs, e);
      case 'dir':
        return;
      case 'socket':
      case 'chardev':
      case 'blockdev':
        this.skipped.push({ path: display(p), reason: `a ${e.kind} is recorded, never made` });
        return;
    }
  }

  /** A member of a link group: the group's first member written, or a link to it. */
  private async linkedFile(abs: Buffer, e: Entry, key: string): Promise<void> {
    const first = this.groups.get(key);
    if (first !== undefined) {
      await link(await first, abs);
      return;
    }
    const written = (async (): Promise<Buffer> => {
      if (e.size < WHOLE) await this.smallFile(abs, e);
      else {
        await this.store.writeBlobToFile(e.id!, abs, 0o600);
        await this.finish(abs, e);
      }
      return abs;
    })();
    this.groups.set(key, written);
    await written;
  }

  /**
   * A small file in calls that do not wait (as cp does): from the page cache they take
   * microseconds, less than a trip through the I/O threads. Fields set on the descriptor.
   */
  private async smallFile(abs: Buffer, e: Entry): Promise<void> {
    const bytes = await this.store.readBlob(e.id!); // checkContents made sure
    const fd = openSync(abs, 'wx', 0o600);
    try {
      writeSync(fd, bytes);
      if (e.xattrs !== undefined) await setXattrs(abs, e.xattrs);
      if (this.asRoot) fchownSync(fd, e.uid, e.gid);
      fchmodSync(fd, e.mode);
      futimesSync(fd, timeArg(e.mtimeNs), timeArg(e.mtimeNs));
    } finally {
      closeSync(fd);
    }
  }

  private async finish(abs: Buffer, e: Entry): Promise<void> {
    if (e.xattrs !== undefined) await setXattrs(abs, e.xattrs);
    if (this.asRoot) await lchown(abs, e.uid, e.gid);
    await chmod(abs, e.mode);
    await lutimes(abs, timeArg(e.mtimeNs), timeArg(e.mtimeNs));
  }
}

/** Write tree `root` out to `dir` (new or empty). */
export async function restoreTree(
  store: Store,
  root: Hash,
  dir: string,
  onProgress: (p: Readonly<RestoreProgress>, total: RestoreProgress) => void = () => undefined,
): Promise<RestoreResult> {
  const total = checkContents(store, root);
  await emptyDir(dir);
  const r = new Restorer(store, Buffer.from(dir), (p) => {
    onProgress(p, total);
  });
  await r.dir(root, '');
  return { ...r.done, dirs: r.dirs, symlinks: r.symlinks, skipped: r.skipped };
}

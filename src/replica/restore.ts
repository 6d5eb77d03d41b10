// Writing a stored tree out to a new or empty directory (`tether snapshot restore`): contents,
// modes, owners (as root), times, symlinks, fifos and user xattrs. Refuses a directory that is
// not empty. Every file's content must be in the store (a snapshot of a volume may name content
// that was never fetched): this is found as the files are written, and at the first one
// missing the restore stops, removes everything it made (the directory was new or empty, so it
// is left as it was) and fails naming every file missing. Devices and sockets are not made
// (MERGE.md rule T). Files of one hard-link group (entry.ts `link`) are one file again: the
// first member reached is written, the others are linked to it. Directories are made first,
// then files verified and written in batches off the main thread (write-files.ts) while the
// next are gathered, each named only once whole with its fields set (a restore killed midway
// leaves no part of a file under a real name), then hard links, then the directories' own
// fields, deepest first (a read-only mode or an mtime would not survive its children).
import { spawn } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../errors.js';
import { isMissing } from '../scan/fs-entry.js';
import { timeArg } from '../scan/stamp.js';
import { setXattrs } from '../scan/xattrs.js';
import type { Store } from '../store/store.js';
import { bytesOf, display, joinPath, type Entry, type Hash } from '../tree/index.js';
import { FileWriter, unnamed } from './write-files.js';

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
/** Paths named in the message when content is missing (the error's data has up to 100). */
const SHOWN = 20;

/**
 * The error naming every file of tree `root` whose content is not in the store and what to do,
 * or undefined if each one's is (a walk of the whole tree: made once a restore found one).
 */
export function missingContents(store: Store, root: Hash): TetherError | undefined {
  // Files with an id whose content is not here can still be fetched (the server's file, if
  // unchanged, has that id); files known by their stamp alone (never read) cannot be matched.
  const absent: string[] = [];
  const stampOnly: string[] = [];
  const walk = (id: Hash, dir: string): void => {
    for (const e of store.readTree(id)) {
      const p = joinPath(dir, e.name);
      if (e.kind === 'dir' && e.id !== undefined) walk(e.id, p);
      if (e.kind !== 'file') continue;
      if (e.id === undefined) stampOnly.push(display(p));
      else if (!store.hasBlob(e.id)) absent.push(display(p));
    }
  };
  walk(root, '');
  const count = absent.length + stampOnly.length;
  if (count === 0) return undefined;
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
  return new TetherError(
    'ENOTFOUND',
    `${count} files of the snapshot have no content in the store (never fetched while the ` +
      `volume was mounted); nothing was written. ` +
      why.join('. '),
    { missing: [...absent, ...stampOnly].slice(0, 100), stampOnly: stampOnly.slice(0, 100) },
  );
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
  /** Files and their bytes in the tree, known once its directories are made. */
  readonly total: RestoreProgress = { files: 0, bytes: 0 };
  dirs = 0;
  symlinks = 0;
  readonly skipped: { path: string; reason: string }[] = [];
  /** Each link group's first member (written by the time `links` are made). */
  private readonly groups = new Map<string, Buffer>();
  private readonly links: [Buffer, Buffer][] = [];
  /** Directories made, parents before children: their own fields are set last, in reverse. */
  private readonly made: [Buffer, Entry][] = [];
  private readonly asRoot = process.getuid?.() === 0;
  private readonly writer: FileWriter;
  /** The root as a byte string, each path's prefix. */
  private readonly rootPath: string;

  constructor(
    private readonly store: Store,
    root: Buffer,
    private readonly onProgress: (p: Readonly<RestoreProgress>) => void,
  ) {
    this.rootPath = root.toString('latin1');
    // Progress once a batch, not once a file.
    this.writer = new FileWriter(this.asRoot, (files) => {
      for (const f of files) {
        this.done.files++;
        this.done.bytes += f.size;
      }
      this.onProgress(this.done);
    });
  }

  /**
   * Writes the tree; false (having stopped writing, with every file it queued written or
   * failed) at the first file whose content is not in the store.
   */
  async run(root: Hash): Promise<boolean> {
    const leaves: [Entry, string][] = [];
    try {
      await this.mkdirs(root, '', leaves);
      for (const [e, dir] of leaves) {
        const made = this.leaf(e, dir);
        if (!(typeof made === 'boolean' ? made : await made)) return false;
      }
      await this.writer.finish();
    } finally {
      // Nothing is left writing once this returns or throws (a failed restore removes its files).
      await this.writer.idle();
    }
    for (const [to, from] of this.links) await link(from, to);
    for (let i = this.made.length - 1; i >= 0; i--) {
      const [abs, d] = this.made[i]!;
      await this.finish(abs, d);
    }
    return true;
  }

  /** The path `p` (a byte string, relative to the root) on disk, as a byte string. */
  private absBytes(p: string): string {
    return `${this.rootPath}/${p}`;
  }

  /** The path `p` (a byte string, relative to the root) on disk. */
  private abs(p: string): Buffer {
    return Buffer.from(this.absBytes(p), 'latin1');
  }

  /** Every directory made first (owner-only until its fields are set), leaves gathered. */
  private async mkdirs(id: Hash, path: string, leaves: [Entry, string][]): Promise<void> {
    for (const e of this.store.readTree(id)) {
      if (e.kind !== 'dir') {
        leaves.push([e, path]);
        if (e.kind === 'file') {
          this.total.files++;
          this.total.bytes += e.size;
        }
        continue;
      }
      const p = joinPath(path, e.name);
      const abs = this.abs(p);
      await mkdir(abs, { mode: 0o700 });
      this.made.push([abs, e]);
      this.dirs++;
      if (e.id !== undefined) await this.mkdirs(e.id, p, leaves);
    }
  }

  private wrote(bytes: number): void {
    this.done.files++;
    this.done.bytes += bytes;
    this.onProgress(this.done);
  }

  /**
   * Queued (most files: at once, unless the writer is full), or made, or skipped; false if it
   * is a file whose content is not here.
   */
  private leaf(e: Entry, dir: string): boolean | Promise<boolean> {
    if (e.kind !== 'file' || e.link !== undefined || e.size >= WHOLE || e.xattrs !== undefined) {
      return this.other(e, dir);
    }
    return this.queue(e, this.absBytes(joinPath(dir, e.name)));
  }

  /** A file handed to the writer (at once, unless it is full); false if its content is not here. */
  private queue(e: Entry, path: string): boolean | Promise<boolean> {
    if (e.id === undefined) return false;
    const content = this.store.blobForCopy(e.id);
    if (content === undefined) return false;
    const { id, size, mode, uid, gid, mtimeNs } = e;
    // Verified by the writer before the file is made (the store lends, unverified).
    const wait = this.writer.add({ path, id, content, size, mode, uid, gid, mtimeNs });
    return wait === undefined ? true : wait.then(() => true);
  }

  /** leaf() for all but a plain file: linked, large, with xattrs, or not a file. */
  private async other(e: Entry, dir: string): Promise<boolean> {
    const p = joinPath(dir, e.name);
    const abs = this.abs(p);
    switch (e.kind) {
      case 'file': {
        if (e.id === undefined) return false;
        if (e.link !== undefined) {
          const first = this.groups.get(e.link);
          if (first !== undefined) {
            this.links.push([abs, first]);
            this.wrote(e.size);
            return true;
          }
          this.groups.set(e.link, abs);
        }
        // The group's first member, small: written as any plain file.
        if (e.size < WHOLE && e.xattrs === undefined) return this.queue(e, this.absBytes(p));
        if (!this.store.hasBlob(e.id)) return false;
        // Streamed (large) or with xattrs (set before the mode, which may forbid writing),
        // under a temporary name beside it, named once whole with its fields set.
        const tmp = this.abs(joinPath(dir, unnamed()));
        try {
          await this.store.writeBlobToFile(e.id, tmp, 0o600);
          await this.finish(tmp, e);
          // A link, not a rename: a name already taken is refused (EEXIST), never replaced.
          await link(tmp, abs);
        } finally {
          await rm(tmp, { force: true });
        }
        this.wrote(e.size);
        return true;
      }
      case 'symlink':
        await symlink(bytesOf(e.target ?? ''), abs);
        if (this.asRoot) await lchown(abs, e.uid, e.gid);
        this.symlinks++;
        await lutimes(abs, timeArg(e.mtimeNs), timeArg(e.mtimeNs));
        return true;
      case 'fifo':
        await mkfifo(abs, e.mode);
        await this.finish(abs, e);
        return true;
      case 'dir':
        return true;
      case 'socket':
      case 'chardev':
      case 'blockdev':
        this.skipped.push({ path: display(p), reason: `a ${e.kind} is recorded, never made` });
        return true;
    }
  }

  private async finish(abs: Buffer, e: Entry): Promise<void> {
    if (e.xattrs !== undefined) await setXattrs(abs, e.xattrs);
    if (this.asRoot) await lchown(abs, e.uid, e.gid);
    await chmod(abs, e.mode);
    await lutimes(abs, timeArg(e.mtimeNs), timeArg(e.mtimeNs));
  }
}

/**
 * `dir` exists and is empty, or is made now (its parent must exist). Returns how to remove what
 * a restore puts there: `dir` itself if it was made, else everything in it.
 */
async function emptyDir(dir: string): Promise<() => Promise<void>> {
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
    return () => rm(dir, { recursive: true, force: true });
  }
  return async () => {
    for (const name of await readdir(dir)) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
  };
}

/**
 * Write tree `root` out to `dir` (new or empty). A restore that fails (content missing from
 * the store, damaged, or a write refused) removes what it made: `dir` is left as it was.
 */
export async function restoreTree(
  store: Store,
  root: Hash,
  dir: string,
  onProgress: (p: Readonly<RestoreProgress>, total: RestoreProgress) => void = () => undefined,
): Promise<RestoreResult> {
  const undo = await emptyDir(dir);
  const r = new Restorer(store, Buffer.from(dir), (p) => {
    onProgress(p, r.total);
  });
  try {
    if (!(await r.run(root))) {
      throw (
        missingContents(store, root) ??
        // Found missing as it was written, there a moment later: removed and put back meanwhile.
        new TetherError('ENOTFOUND', 'a content of the snapshot left the store during restore')
      );
    }
  } catch (err) {
    await undo();
    throw err;
  }
  return { ...r.done, dirs: r.dirs, symlinks: r.symlinks, skipped: r.skipped };
}

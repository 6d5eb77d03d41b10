// Writing a stored tree out to a new or empty directory (`tether snapshot restore`): contents,
// modes, owners (as root), times, symlinks, fifos and user xattrs. Refuses a directory that is
// not empty, and checks before writing anything that every file's content is in the store (a
// snapshot of a volume may name content that was never fetched). Devices and sockets are not
// made (MERGE.md rule T). Files of one hard-link group (entry.ts `link`) are one file again:
// the first member reached is written, the others are linked to it. Directories are made
// first, then files verified and written in batches off the main thread (write-files.ts) while
// the next are gathered, each named only once whole with its fields set (a restore killed
// midway leaves no part of a file under a real name), then hard links, then the directories'
// own fields, deepest first.
import { spawn } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import { fsPath, isMissing } from '../scan/fs-entry.js';
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
  /** Each link group's first member (written by the time `links` are made). */
  private readonly groups = new Map<string, Buffer>();
  private readonly links: [Buffer, Buffer][] = [];
  /** Directories made, parents before children: their own fields are set last, in reverse. */
  private readonly made: [Buffer, Entry][] = [];
  private readonly asRoot = process.getuid?.() === 0;
  private readonly writer: FileWriter;

  constructor(
    private readonly store: Store,
    private readonly root: Buffer,
    private readonly onProgress: (p: Readonly<RestoreProgress>) => void,
  ) {
    this.writer = new FileWriter(this.asRoot, (files) => {
      for (const f of files) this.wrote(f.size);
    });
  }

  async run(root: Hash): Promise<void> {
    const leaves: [Entry, string][] = [];
    await this.mkdirs(root, '', leaves);
    for (const [e, dir] of leaves) await this.leaf(e, dir);
    await this.writer.finish();
    for (const [to, from] of this.links) await link(from, to);
    // Children before parents: a read-only mode or an mtime would not survive its children.
    for (let i = this.made.length - 1; i >= 0; i--) {
      const [abs, d] = this.made[i]!;
      await this.finish(abs, d);
    }
  }

  /** Every directory made first (owner-only until its fields are set), leaves gathered. */
  private async mkdirs(id: Hash, path: string, leaves: [Entry, string][]): Promise<void> {
    for (const e of this.store.readTree(id)) {
      if (e.kind !== 'dir') {
        leaves.push([e, path]);
        continue;
      }
      const p = joinPath(path, e.name);
      const abs = fsPath(this.root, p);
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

  private async leaf(e: Entry, dir: string): Promise<void> {
    const p = joinPath(dir, e.name);
    const abs = fsPath(this.root, p);
    switch (e.kind) {
      case 'file': {
        if (e.link !== undefined) {
          const first = this.groups.get(e.link);
          if (first !== undefined) {
            this.links.push([abs, first]);
            this.wrote(e.size);
            return;
          }
          this.groups.set(e.link, abs);
        }
        // checkContents made sure every content is here.
        if (e.size >= WHOLE || e.xattrs !== undefined) {
          // Streamed (large) or with xattrs (set before the mode, which may forbid writing),
          // under a temporary name beside it, named once whole with its fields set.
          const tmp = fsPath(this.root, joinPath(dir, unnamed()));
          try {
            await this.store.writeBlobToFile(e.id!, tmp, 0o600);
            await this.finish(tmp, e);
            // A link, not a rename: a name already taken is refused (EEXIST), never replaced.
            await link(tmp, abs);
          } finally {
            await rm(tmp, { force: true });
          }
          this.wrote(e.size);
          return;
        }
        // Verified by the writer before the file is made (the store lends, unverified).
        return this.writer.add({
          path: abs,
          id: e.id!,
          content: this.store.blobForCopy(e.id!),
          size: e.size,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtimeNs: e.mtimeNs,
        });
      }
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
  await r.run(root);
  return { ...r.done, dirs: r.dirs, symlinks: r.symlinks, skipped: r.skipped };
}

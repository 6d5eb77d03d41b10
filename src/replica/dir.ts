// A local directory as one side of a sync (the Replica of replica.ts): every mutating call
// first checks that its target is still what the plan saw (kind, mode and content, by a fresh
// lstat and, when the stamp moved and the expected entry has an id, by a hash) and answers a
// per-path problem instead of overwriting (MERGE.md invariant 9). A call whose result is
// already in place answers "done": that is what makes re-running an interrupted plan safe
// (invariant 7).
//
// Files are written to a temporary name in the target's directory, given their owner, mode,
// xattrs and mtime, fsynced, and renamed over the target: a reader sees the old or the new
// content, never half. The target is checked once, right before the rename (a copy made while
// it changed is thrown away: the path is planned again). Temporary names start with
// TEMP_PREFIX; scans skip them and a crash leaves nothing else behind.
//
// Every path is reached through safe-path.ts: no parent of a target is ever a symlink followed
// (a parent that became one is a per-path problem), and the root is pinned by an open handle.
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { chmod, mkdir, readFile, rename, rm, rmdir, symlink, unlink } from 'node:fs/promises';
import { bytesOf, type ByteString, type Entry, type Field, type Hash } from '../tree/index.js';
import { openToRead, pump, type OnPiece } from '../store/stream.js';
import { finishSymlink, makeFile, makeSymlink, setFields, writeSynced } from './dir-write.js';
import { putLink, type LinkSide } from './dir-link.js';
import { HashedFiles } from './hashed-files.js';
import { setOwner } from './owner.js';
import type { BigIntStats } from 'node:fs';
import { entryOf, hashFile, lstatOrNone } from '../scan/fs-entry.js';
import { closeMtime, MTIME_WINDOW_NS, RACY_NS } from '../scan/stamp.js';
import { setXattrs } from '../scan/xattrs.js';
import { held, SafeRoot } from './safe-path.js';
import {
  appearedSinceScan,
  changedSinceScan,
  neverMade,
  notEmpty,
  notMetadata,
  targetExists,
} from './refusals.js';
import {
  ALREADY,
  DONE,
  lastName,
  parentOf,
  type ContentSource,
  type Outcome,
  type Problem,
  type Replica,
} from './replica.js';
import type { LinkTo } from '../merge/plan.js';

const AS_ROOT = process.getuid?.() === 0;

export class DirReplica implements Replica {
  readonly root: Buffer;
  readonly safe: SafeRoot;
  /** Content-checked files hashed by this object, by path (see matches). */
  private readonly hashed = new HashedFiles();

  constructor(
    root: string | Buffer,
    readonly label: string,
    /** Timestamp granularity of the filesystem under `root` (see stamp.ts). */
    readonly mtimeWindowNs: bigint = MTIME_WINDOW_NS,
    /**
     * Check a file whose content id is known by its content, never by size and mtime alone
     * (the local replica, whose stamps are not trusted: DESIGN decision 16).
     */
    readonly contentChecked = false,
    /**
     * Files here whose content was never fetched (a mount's placeholders: see
     * ScanOptions.placeholder): never given another name, their zeros being no content.
     */
    private readonly placeholder?: (path: ByteString, st: { readonly ino: bigint }) => unknown,
  ) {
    this.root = typeof root === 'string' ? Buffer.from(root) : root;
    this.safe = new SafeRoot(this.root, label);
  }

  /**
   * Rename a finished temporary file over `path`, if the target is still `expect`; where it is
   * not but already holds `done` (a resumed plan whose rename happened), that is done already.
   */
  private async install(
    tmp: Buffer,
    path: ByteString,
    expect: Entry | null,
    done?: Entry,
  ): Promise<Outcome> {
    const moved = await this.expectAt(path, expect);
    if (moved !== undefined) {
      return done !== undefined && (await this.matches(path, done)) ? ALREADY : moved;
    }
    await rename(tmp, await this.safe.need(path));
    return DONE;
  }

  /** This replica as dir-link.ts makes links in it. */
  private linkSide(): LinkSide {
    const placeholder = this.placeholder;
    return {
      label: this.label,
      safe: this.safe,
      matches: (p, want) => this.matches(p, want),
      hash: (p) => this.hash(p),
      neverFetched: placeholder && ((p, st) => placeholder(p, st) !== false),
      tempFor: (p) => this.tempFor(p),
      install: (tmp, p, want, done) => this.install(tmp, p, want, done),
    };
  }

  /** A fresh temporary name beside `path` (scans skip and clean these). */
  private tempFor(path: ByteString): Promise<Buffer> {
    // Unique enough to meet no other (files are created exclusively, O_EXCL): node:crypto's
    // random bytes would cost every command loading that module (about 6 ms).
    const name = `${TEMP_PREFIX}${process.pid.toString(36)}-${Math.random().toString(36).slice(2)}`;
    return this.safe.need(parentOf(path) === '' ? name : `${parentOf(path)}/${name}`);
  }

  /**
   * The path by which the kernel reaches `path`, every parent opened from the root without
   * following a link (a parent that is one throws EUNSAFE; a missing one ENOENT), for callers
   * outside this class that read, move or remove `path` themselves (resolve). Such a caller may
   * move or remove `path` behind this object's back (never its parents: those it names by their
   * own paths), so what is held open at or below `path` is let go. Use it at once: only a later
   * call of this replica that moves a parent could let that parent's descriptor go.
   */
  async reach(path: ByteString): Promise<Buffer> {
    this.safe.forget(path);
    return await this.safe.hold(() => this.safe.need(path));
  }

  /** Remove `path` and everything below it, if it is there (through parents opened safely). */
  async removeAll(path: ByteString): Promise<void> {
    this.safe.forget(path);
    await this.safe.hold(async () => {
      const p = await this.safe.at(path);
      if (p !== undefined) await rm(p, { recursive: true, force: true });
    });
  }

  /** The entry now at `path` (no content id), or undefined. */
  @held
  async entry(path: ByteString): Promise<Entry | undefined> {
    return (await this.statEntry(path))?.entry;
  }

  /** The entry now at `path` and the lstat it was made from. */
  private async statEntry(
    path: ByteString,
  ): Promise<{ entry: Entry; st: BigIntStats } | undefined> {
    const p = await this.safe.at(path);
    if (p === undefined) return undefined;
    const st = await lstatOrNone(p);
    const entry = st === undefined ? undefined : await entryOf(p, lastName(path), st);
    return entry === undefined || st === undefined ? undefined : { entry, st };
  }

  /** The content of the file at `path`, read through the same safe parents as every call. */
  @held
  async read(path: ByteString): Promise<Buffer> {
    return readFile(await this.safe.need(path));
  }

  /** The file's bytes piece by piece, holes flagged (store/stream.ts's pump). */
  @held
  async readContent(path: ByteString, onPiece: OnPiece): Promise<number> {
    const input = await openToRead(await this.safe.need(path));
    try {
      return await pump(input, 0, onPiece);
    } finally {
      await input.close();
    }
  }

  @held
  async hash(path: ByteString): Promise<Hash> {
    return hashFile(await this.safe.need(path));
  }

  /**
   * True when `path` holds `want` (null: nothing): same kind and mode, and for a file the
   * same content — same stamp, or, with a known id, the same hash.
   */
  @held
  async matches(path: ByteString, want: Entry | null): Promise<boolean> {
    // Taken before the lstat: what a content check may vouch for (below).
    const beforeNs = BigInt(Date.now()) * 1_000_000n - this.racyMarginNs;
    const now = await this.statEntry(path);
    const have = now?.entry;
    if (want === null || have === undefined) return want === null && have === undefined;
    if (have.kind !== want.kind || have.mode !== want.mode) return false;
    switch (want.kind) {
      case 'dir':
      case 'fifo':
      case 'socket':
        return true;
      case 'chardev':
      case 'blockdev':
        return have.rdev === want.rdev;
      case 'symlink':
        return have.target === want.target;
      case 'file':
        if (have.size !== want.size) return false;
        // A stamp vouches for the content only on a side whose stamps are trusted (the server,
        // DESIGN decision 4); on the local replica a rewrite that keeps size and mtime between
        // the scan and now would pass it, so a known id is checked by reading.
        if (
          closeMtime(have.mtimeNs, want.mtimeNs, this.mtimeWindowNs) &&
          !(this.contentChecked && want.id !== undefined)
        ) {
          return true;
        }
        if (want.id === undefined) return false;
        if (this.contentChecked && now !== undefined)
          return this.hashed.check(path, want.id, now.st, beforeNs, () => this.hash(path));
        return (await this.hash(path)) === want.id;
    }
  }

  /** How long before a check a file's last change must lie for its stat to vouch for it. */
  private get racyMarginNs(): bigint {
    return this.mtimeWindowNs > RACY_NS ? this.mtimeWindowNs : RACY_NS;
  }

  private async expectAt(path: ByteString, expect: Entry | null): Promise<Problem | undefined> {
    if (await this.matches(path, expect)) return undefined;
    return changedSinceScan(this.label, path, expect, await this.entry(path));
  }

  /** Create or replace a file or symlink at `path` with `entry`, copied from `source`. */
  @held
  async put(
    path: ByteString,
    expect: Entry | null,
    entry: Entry,
    source: ContentSource,
    fromPath: ByteString,
    link?: LinkTo,
  ): Promise<Outcome> {
    if (entry.kind !== 'file' && entry.kind !== 'symlink') {
      return neverMade(this.label, path, entry, 'copied');
    }
    let note: string | undefined;
    if (link !== undefined && entry.kind === 'file') {
      const linked = await putLink(this.linkSide(), path, expect, entry, source, fromPath, link);
      if (!('copy' in linked)) return linked;
      note = linked.copy;
    }
    const copied = await this.viaTemp(path, expect, entry, (tmp) =>
      entry.kind === 'symlink'
        ? makeSymlink(tmp, entry, source, fromPath)
        : makeFile(tmp, entry, source, fromPath),
    );
    return note !== undefined && copied.ok ? { ...copied, note } : copied;
  }

  /**
   * A new file made by `make` at a fresh temporary name beside `path` (its content id, if it
   * answers one; a problem stops there), renamed over `path` if that is still `expect`. Where
   * `path` already holds `done` instead, the plan was interrupted after this rename: done
   * already (whatever `make` found). The temporary name is removed unless renamed into place
   * (then it is gone: no unlink to fail).
   */
  private async viaTemp(
    path: ByteString,
    expect: Entry | null,
    done: Entry | undefined,
    make: (tmp: Buffer) => Promise<Problem | Hash | undefined>,
  ): Promise<Outcome> {
    const tmp = await this.tempFor(path);
    let placed = false;
    try {
      const made = await make(tmp);
      if (made !== undefined && typeof made !== 'string') {
        return done !== undefined && (await this.matches(path, done)) ? ALREADY : made;
      }
      const put = await this.install(tmp, path, expect, done);
      placed = put.ok && !put.already;
      return put.ok && !put.already && made !== undefined ? { ...put, id: made } : put;
    } finally {
      if (!placed) await unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * Create or replace a file (content `data`) or symlink (target from `entry`, `data` null) at
   * `path`, which must still be `expect`: a version restored from the store. Temp → fsync →
   * rename, with the entry's mode, owner, xattrs and mtime.
   */
  @held
  async putData(
    path: ByteString,
    expect: Entry | null,
    entry: Entry,
    data: Buffer | null,
  ): Promise<Outcome> {
    if (entry.kind !== 'symlink' && (entry.kind !== 'file' || data === null)) {
      return neverMade(this.label, path, entry, 'written');
    }
    return this.viaTemp(path, expect, entry, async (tmp) => {
      if (entry.kind === 'symlink') {
        await symlink(bytesOf(entry.target ?? ''), tmp);
        await finishSymlink(tmp, entry);
      } else if (data !== null) await writeSynced(tmp, data, entry);
      return undefined;
    });
  }

  /**
   * Replace the file at `path`, which must still be `expect`, with `data` (an automatic text
   * merge): temp → fsync → rename, keeping the file's mode, owner and xattrs.
   */
  @held
  async writeContent(
    path: ByteString,
    expect: Entry,
    data: Buffer,
    mtimeNs: bigint,
  ): Promise<Outcome> {
    return this.viaTemp(path, expect, undefined, async (tmp) => {
      await writeSynced(tmp, data, { ...expect, size: data.length, mtimeNs });
      return undefined;
    });
  }

  /** Create a directory (or accept the one already there). */
  @held
  async mkdir(path: ByteString, entry: Entry): Promise<Outcome> {
    const have = await this.entry(path);
    if (have !== undefined && have.kind !== 'dir') {
      return appearedSinceScan(this.label, path, have);
    }
    const p = await this.safe.need(path);
    if (have === undefined) await mkdir(p, { mode: entry.mode });
    if (have?.mode !== entry.mode) await chmod(p, entry.mode);
    // A new directory gets its recorded owner as a new file does (dir-write.ts): else the next
    // scan reads the creator's owner back as a change on this side.
    if (have === undefined && AS_ROOT) await setOwner(p, entry.uid, entry.gid);
    if (have === undefined && entry.xattrs !== undefined) await setXattrs(p, entry.xattrs);
    return have === undefined ? DONE : ALREADY;
  }

  /** Set metadata fields (mode, owner, xattrs, mtime) only. */
  @held
  async setmeta(
    path: ByteString,
    expect: Entry,
    entry: Entry,
    fields: readonly Field[],
  ): Promise<Outcome> {
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) {
      return (await this.matches(path, entry)) && !fields.includes('xattrs') ? ALREADY : wrong;
    }
    const cannot = await setFields(await this.safe.need(path), entry, fields);
    return cannot === undefined ? DONE : notMetadata(this.label, path, cannot);
  }

  /** Remove `path` (a directory only when empty). */
  @held
  async delete(path: ByteString, expect: Entry): Promise<Outcome> {
    if ((await this.entry(path)) === undefined) return ALREADY;
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return wrong;
    const p = await this.safe.need(path);
    if (expect.kind === 'dir') {
      try {
        await rmdir(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
          return notEmpty(this.label, path);
        }
        throw err;
      }
    } else await unlink(p);
    this.safe.forget(path);
    return DONE;
  }

  /** Rename `path` to `to` (never over something at `to`). */
  @held
  async rename(path: ByteString, to: ByteString, expect: Entry, entry: Entry): Promise<Outcome> {
    return this.move(path, to, expect, entry);
  }

  /** Move the local version of a conflicted path aside to its variant name. */
  @held
  async variant(path: ByteString, variantPath: ByteString, entry: Entry): Promise<Outcome> {
    return this.move(path, variantPath, entry, { ...entry, name: lastName(variantPath) });
  }

  private async move(
    path: ByteString,
    to: ByteString,
    expect: Entry,
    entry: Entry,
  ): Promise<Outcome> {
    if ((await this.entry(to)) !== undefined) {
      if (await this.matches(to, entry)) return ALREADY;
      return targetExists(this.label, path, to);
    }
    const wrong = await this.expectAt(path, expect);
    if (wrong !== undefined) return wrong;
    await rename(await this.safe.need(path), await this.safe.need(to));
    this.safe.forget(path);
    return DONE;
  }
}

// Scanning a replica into a tree in the store. Two modes (DESIGN decision 4, issue 3 item 4):
// - 'hash' (the local replica): every file gets its content id; a file whose stamp matches a
//   reference tree (the last scan, the base) at the same path keeps that id unread, so a
//   rescan reads only what changed;
// - 'stamp' (the server replica): no content is read; a file whose stamp matches base keeps
//   base's id, any other file is known by its stamp only (size, mtime). Inode numbers are
//   never used: sshfs and some NFS setups do not keep them stable.
// An entry equal to base but for an mtime inside the stamp window (stamp.ts) takes base's
// mtime, so a file tether wrote is not seen as touched on the next run.
import type { BigIntStats } from 'node:fs';
import { readdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { byteString, display, joinPath, type Entry, type Hash } from '../tree/index.js';
import type { TreeStore } from './base-update.js';
import { entryOfSync, fsPath, hashFile, isMissing, lstatOrNoneSync } from './fs-entry.js';
import { TEMP_PREFIX } from './replica.js';
import { closeMtime, MTIME_WINDOW_NS } from './stamp.js';
import { readXattrsSync } from './xattrs.js';

export interface ScanOptions {
  readonly content: 'hash' | 'stamp';
  /** The base tree: ids of unchanged files, and the mtime an entry inside the window takes. */
  readonly base?: Hash;
  /** Further trees whose ids may be reused for files with an equal stamp (the last scan). */
  readonly known?: readonly Hash[];
  /** Paths left out of the scan (recorded conflict variants). */
  readonly exclude?: (path: Path) => boolean;
  /** Called per entry scanned. */
  readonly onEntry?: (path: Path) => void;
  /**
   * For a file that the first `known` tree has: true when it is exactly as it was then (a stat
   * cache says so), and that entry's id and xattrs are taken without reading anything.
   */
  readonly reuseKnown?: (path: Path, st: BigIntStats, known: Entry) => boolean;
  /**
   * Take the id of a base or known file with the same size and mtime (default true). A
   * snapshot says false: its stat cache also compares ctime, inode and device.
   */
  readonly trustStamps?: boolean;
  /** A content id known from elsewhere (a stat cache) for a file as lstat describes it now. */
  readonly knownId?: (path: Path, st: BigIntStats) => Hash | undefined;
  /** Reads a file whose id is not known: by default hashes it; a snapshot stores it too. */
  readonly read?: (p: Buffer, path: Path, st: BigIntStats) => Promise<Hash>;
  /** Delete temporary files a killed run left behind (only while holding the sync lock). */
  readonly removeTemps?: boolean;
  /**
   * Files with an mtime at or after this are read even in 'stamp' mode: they changed too close
   * to the last run for their stamp to tell (on a filesystem with whole-second times, an edit
   * in the same second as the last sync leaves the stamp as it was).
   */
  readonly racySinceNs?: bigint;
  /** How far apart two mtimes may be and still be the same (the replica's granularity). */
  readonly mtimeWindowNs?: bigint;
  /** Read user.* xattrs of files and directories (default true). */
  readonly xattrs?: boolean;
}

type Listing = ReadonlyMap<string, Entry>;
const NONE: Listing = new Map();

/** At most this many files are hashed at once. */
const PARALLEL = 16;

export async function scanReplica(
  store: TreeStore,
  root: string,
  opts: ScanOptions,
): Promise<Hash> {
  const rootBuf = Buffer.from(root);
  const readAttrs = opts.xattrs ?? true;
  const window = opts.mtimeWindowNs ?? MTIME_WINDOW_NS;
  const read = opts.read ?? ((p: Buffer) => hashFile(p));
  const limit = new Limiter(PARALLEL);
  const listing = (id: Hash | undefined): Listing =>
    id === undefined ? NONE : new Map(store.readTree(id).map((e) => [e.name, e]));
  const sub = (l: Listing, name: string): Listing => {
    const e = l.get(name);
    return e?.kind === 'dir' ? listing(e.id) : NONE;
  };

  const scanDir = async (dir: Path, base: Listing, known: Listing[]): Promise<Hash> => {
    let names: Buffer[];
    try {
      names = readdirSync(fsPath(rootBuf, dir), { encoding: 'buffer' });
    } catch (err) {
      throw new TetherError(
        'EIO',
        `cannot list ${display(dir === '' ? root : dir)} in ${root}: ${(err as Error).message}; fix its permissions or exclude it`,
        { path: display(dir) },
        { cause: err },
      );
    }
    // Metadata is read synchronously (microseconds a call); only reading contents and
    // descending wait, so contents of many files are read at once.
    const entries: Entry[] = [];
    const waits: Promise<Entry>[] = [];
    for (const raw of names) {
      const name = byteString(raw);
      const path = joinPath(dir, name);
      const p = fsPath(rootBuf, path);
      if (name.startsWith(TEMP_PREFIX)) {
        // Left by a run that was killed mid-write: never part of the tree.
        if (opts.removeTemps === true) await unlink(p).catch(() => undefined);
        continue;
      }
      if (opts.exclude?.(path) === true) continue;
      const st = lstatOrNoneSync(p);
      if (st === undefined) continue; // vanished since readdir
      let e = entryOfSync(p, name, st);
      if (e === undefined) continue;
      if (e.kind === 'file' && opts.reuseKnown !== undefined) {
        const k = known[0]?.get(name);
        if (k?.kind === 'file' && k.id !== undefined && opts.reuseKnown(path, st, k)) {
          opts.onEntry?.(path);
          entries.push(
            k.xattrs === undefined ? { ...e, id: k.id } : { ...e, id: k.id, xattrs: k.xattrs },
          );
          continue;
        }
      }
      if (readAttrs && (e.kind === 'file' || e.kind === 'dir')) {
        const xattrs = readXattrsSync(p);
        if (xattrs !== undefined) e = { ...e, xattrs };
      }
      opts.onEntry?.(path);
      const b = base.get(name);
      if (e.kind === 'dir') {
        const d = e;
        waits.push(
          scanDir(
            path,
            sub(base, name),
            known.map((k) => sub(k, name)),
          ).then((id) => ({ ...d, id })),
        );
        continue;
      }
      if (e.kind === 'file') {
        const racy = opts.racySinceNs !== undefined && st.mtimeNs >= opts.racySinceNs;
        const id = racy
          ? undefined
          : (opts.knownId?.(path, st) ??
            (opts.trustStamps === false
              ? undefined
              : reuse(e, [b, ...known.map((k) => k.get(name))], window)));
        if (id !== undefined) e = { ...e, id };
        else if (opts.content === 'hash' || racy) {
          const f = e;
          waits.push(
            limit
              .run(() => hashOf(p, path, root, () => read(p, path, st)))
              .then((hid) => {
                const h = { ...f, id: hid };
                return b !== undefined ? normalize(h, b, window) : h;
              }),
          );
          continue;
        }
      }
      entries.push(b !== undefined ? normalize(e, b, window) : e);
    }
    const tree = waits.length === 0 ? entries : entries.concat(await Promise.all(waits));
    tree.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return store.putTree(tree);
  };

  return scanDir('', listing(opts.base), (opts.known ?? []).map(listing));
}

/** The id of the first reference entry with the same stamp. */
function reuse(e: Entry, refs: readonly (Entry | undefined)[], window: bigint): Hash | undefined {
  for (const r of refs) {
    if (
      r?.kind === 'file' &&
      r.id !== undefined &&
      r.size === e.size &&
      closeMtime(r.mtimeNs, e.mtimeNs, window)
    ) {
      return r.id;
    }
  }
  return undefined;
}

/** Base's mtime for an entry that equals base but for an mtime inside the window. */
function normalize(e: Entry, b: Entry, window: bigint): Entry {
  if (e.kind !== b.kind || e.size !== b.size || e.mtimeNs === b.mtimeNs) return e;
  if (!closeMtime(e.mtimeNs, b.mtimeNs, window) || e.target !== b.target) return e;
  if (e.id !== undefined && b.id !== undefined && e.id !== b.id) return e;
  return { ...e, mtimeNs: b.mtimeNs };
}

async function hashOf(
  p: Buffer,
  path: Path,
  root: string,
  read: () => Promise<Hash>,
): Promise<Hash> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof TetherError) throw err;
    if (isMissing(err)) {
      throw new TetherError(
        'ECHANGED',
        `${display(path)} in ${root} vanished while it was read; run again`,
        {
          path: display(path),
        },
      );
    }
    throw new TetherError(
      'EIO',
      `cannot read ${display(path)} in ${root}: ${(err as Error).message}; fix its permissions and run again`,
      { path: display(path) },
      { cause: err },
    );
  }
}

/** Runs at most `n` tasks at once. */
class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Next waiter to wake (a moving head: shift() would make a long queue quadratic). */
  private head = 0;
  constructor(private readonly n: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      if (this.head < this.queue.length) {
        const wake = this.queue[this.head]!;
        this.queue[this.head++] = noop;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
        }
        wake();
      }
    }
  }
}

const noop = (): void => undefined;

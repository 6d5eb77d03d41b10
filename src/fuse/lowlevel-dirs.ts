// Directory listings for the low-level binding, kept by directory node: the kernel opens
// directories without asking (OPENDIR is answered ENOSYS, native/lowlevel_calls.c), so a
// readdir carries no handle. A readdir at offset 0 lists the directory (the handler's readdir,
// with . and .., or every entry with its attributes in one call where the handlers can) and
// keeps the listing for the node; a later offset continues in it (offsets are positions in
// it). A listing is let go once read to its end (its length kept, unless another reader
// started in it meanwhile), after KEEP_MS unread, or when its node is forgotten. readdirplus hands the kernel each entry's node and attributes, so a walk that
// stats what it lists asks nothing more; the kernel keeps the listing cached (cache_readdir)
// until the directory changes.
import type { AttrListing, Caller, Stat } from './operations.js';
import { ATTR_FIELDS, putAttrs } from './lowlevel-addon.js';
import {
  Errno,
  fail,
  keepDirFd,
  mayKeep,
  pathOf,
  settle,
  statOf,
  timesFor,
  type Ctx,
} from './lowlevel-context.js';
import type { FsNode } from './nodes.js';

interface Listing {
  readonly node: number;
  readonly path: string;
  /** The names' bytes as Latin-1 strings (as paths are: see AttrListing). */
  readonly names: string[];
  readonly attrs: Float64Array;
  /** Entries whose attributes are filled in (cleared when the directory is invalidated). */
  readonly have: Uint8Array;
  /**
   * Another reader started in it before it was read to its end: kept once read to its end
   * too (until unread for KEEP_MS), for the reader still inside.
   */
  shared?: boolean;
  /** Lets the listing go once unread for KEEP_MS. */
  timer?: NodeJS.Timeout;
}

/**
 * A listing read to its end, by its length: a reader asking past the end again (readdir(3)
 * called again after it returned the end, as libuv does) is told the end again, not handed
 * the end of a listing made since, whose positions may have moved.
 */
interface Ended {
  readonly ended: number;
  readonly at: number;
}

/** How long a listing not read to its end waits for its reader's next readdir. */
const KEEP_MS = 10_000;

/** Bytes an entry takes at least in a reply (a dirent; a direntplus adds its entry_out). */
const DIRENT_MIN = 32;
const DIRENTPLUS_MIN = 160;

const ENOSYS = fail('ENOSYS').errno;
const GONE = '';
const NO_ATTRS = new Float64Array(ATTR_FIELDS);

const isDots = (n: string): boolean => n === '.' || n === '..';

const sameNames = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((n, i) => n === b[i]);

/**
 * `fresh` laid out on `old`'s positions, for a reader still inside `old` (the kernel cannot
 * say which reader a readdir is from, so readers of one directory share its listing): each
 * name keeps its position, names gone since are left empty (skipped), new ones follow. A
 * reader continuing at a position sees every name that stayed exactly once.
 */
function laidOn(old: Listing, fresh: Listing): Listing {
  if (sameNames(old.names, fresh.names)) return fresh;
  const at = new Map<string, number>();
  fresh.names.forEach((n, i) => at.set(n, i));
  const from: number[] = [];
  const names: string[] = old.names.map((n) => {
    const i = n.length === 0 ? undefined : at.get(n);
    if (i === undefined) {
      from.push(-1);
      return GONE;
    }
    at.delete(n);
    from.push(i);
    return n;
  });
  for (const i of at.values()) {
    from.push(i);
    names.push(fresh.names[i]!);
  }
  const attrs = new Float64Array(Math.max(1, names.length) * ATTR_FIELDS);
  const have = new Uint8Array(names.length);
  from.forEach((i, j) => {
    if (i < 0) return;
    attrs.set(fresh.attrs.subarray(i * ATTR_FIELDS, (i + 1) * ATTR_FIELDS), j * ATTR_FIELDS);
    have[j] = fresh.have[i] ?? 0;
  });
  return { node: fresh.node, path: fresh.path, names, attrs, have };
}

export class Listings {
  /** Listings by directory node: until read to their end, then their length. */
  private readonly kept = new Map<number, Listing | Ended>();
  /** Directories whose listing's end the session thread answers (markEnd), so only they are cleared. */
  private readonly ends = new Set<number>();

  constructor(private readonly c: Ctx) {}

  /** Directory `ino` listed now. */
  private async list(ino: number, who: Caller): Promise<Listing> {
    const path = pathOf(this.c, ino);
    const fast = await this.withAttrs(path, who);
    if (fast !== undefined) {
      const { names, attrs } = fast;
      return { node: ino, path, names, attrs, have: new Uint8Array(names.length).fill(1) };
    }
    const raw = await settle<(string | Buffer)[]>((cb) => {
      this.c.h.readdir(path, cb, who);
    });
    const names = raw.map((n) => (typeof n === 'string' ? n : n.toString('latin1')));
    return {
      node: ino,
      path,
      names,
      attrs: new Float64Array(Math.max(1, names.length) * ATTR_FIELDS),
      have: new Uint8Array(names.length),
    };
  }

  /**
   * The listing to read `ino` from at `off`: listed afresh at 0, else the one kept (undefined:
   * past the end of one read to its end).
   */
  private async listing(ino: number, off: number, who: Caller): Promise<Listing | undefined> {
    const had = this.kept.get(ino);
    if (off > 0 && had !== undefined) {
      if (!('ended' in had)) return had;
      if (off >= had.ended && Date.now() - had.at < KEEP_MS) return undefined;
    }
    // No listing kept at a later offset (let go, or read to its end by another reader):
    // listed again, and the reader continues at its position. Where the last listing ended
    // is no longer where this one does.
    const fresh = await this.list(ino, who);
    this.unmarkEnd(ino);
    const now = this.kept.get(ino);
    const old = now === undefined || 'ended' in now ? undefined : now;
    const l = old === undefined ? fresh : laidOn(old, fresh);
    if (old !== undefined) {
      l.shared = true;
      if (old !== l) this.letGo(old);
    }
    this.kept.set(ino, l);
    return l;
  }

  /** The listing with every entry's attributes in one handler call, where the handlers can. */
  private async withAttrs(path: string, who: Caller): Promise<AttrListing | undefined> {
    const h = this.c.h.readdirAttrs;
    if (h === undefined) return undefined;
    try {
      return await settle<AttrListing>((cb) => {
        h(path, cb, who);
      });
    } catch (err) {
      if (err instanceof Errno && err.errno === ENOSYS) return undefined;
      throw err;
    }
  }

  async readdir(
    req: number,
    ino: number,
    size: number,
    off: number,
    plus: boolean,
    who: Caller,
  ): Promise<void> {
    const l = await this.listing(ino, off, who);
    if (l === undefined) {
      this.c.addon.replyDir(req, size, plus, off, [], NO_ATTRS, 0, 0);
      return;
    }
    const end = Math.min(
      l.names.length,
      off + Math.ceil(size / (plus ? DIRENTPLUS_MIN : DIRENT_MIN)) + 1,
    );
    await this.fill(l, off, end, who);
    // From here to the reply nothing waits: nodes made for it are handed over or dropped
    // before another request can see them.
    const made = plus ? this.nodesFor(l, off, end) : [];
    const { attr, entry } = timesFor(this.c, l.path);
    // The kernel asks past the last entry before it knows the listing ended, as soon as it
    // has the reply that carried them: where this reply may carry them, the session thread is
    // told before it goes to answer that readdir itself (one request fewer per directory
    // listed). A listing others read in, or one dropped once read, is not marked.
    const marked = end === l.names.length && l.shared !== true && this.markEnd(l, end);
    const next = this.c.addon.replyDir(req, size, plus, off, l.names, l.attrs, attr, entry);
    if (plus) this.settleNodes(l, made, off, next);
    // Read to its end once a reply carries nothing, or carried the last entries of a marked
    // listing; else the listing waits for the kernel's next readdir.
    const last = next >= l.names.length;
    const done = last && (marked || !l.names.slice(off, next).some((n) => n.length > 0));
    if (!done || l.shared === true) {
      this.keep(l);
    } else if (this.kept.get(ino) === l) {
      this.kept.set(ino, { ended: l.names.length, at: Date.now() });
      this.letGo(l);
    }
    if (!done) return;
    // The kernel keeps every listing; a volatile one is dropped once read.
    if (this.c.session !== undefined && !mayKeep(this.c, l.path)) {
      this.c.addon.notifyInvalInode(this.c.session, l.node);
    }
  }

  /**
   * Directory `node` changed (underneath the kernel, or a name went through the mount): a
   * reader continuing in its listing gets the entries' attributes read again (names gone
   * since are skipped). The listing itself is kept, so that the reader sees every name that
   * stayed once; the next readdir at offset 0 lists the directory again.
   */
  invalidated(node: number): void {
    this.unmarkEnd(node);
    const l = this.kept.get(node);
    if (l !== undefined && !('ended' in l)) l.have.fill(0);
  }

  /** The kernel forgot `node`: no reader is left in its listing. */
  forgotten(node: number): void {
    this.unmarkEnd(node);
    const l = this.kept.get(node);
    if (l === undefined) return;
    this.kept.delete(node);
    if (!('ended' in l)) this.letGo(l);
  }

  /**
   * The session thread answers a readdir of `l` at `end` "no more entries"; whether it will.
   * Not for a listing the kernel must not keep: that one is read to its end here.
   */
  private markEnd(l: Listing, end: number): boolean {
    const s = this.c.session;
    if (s === undefined || !mayKeep(this.c, l.path) || !this.c.addon.setDirEnd(s, l.node, end)) {
      return false;
    }
    this.ends.add(l.node);
    return true;
  }

  /** The session thread no longer answers the end of `node`'s listing (marked by markEnd). */
  private unmarkEnd(node: number): void {
    if (!this.ends.delete(node) || this.c.session === undefined) return;
    this.c.addon.setDirEnd(this.c.session, node, 0);
  }

  private keep(l: Listing): void {
    if (l.timer !== undefined) {
      l.timer.refresh();
      return;
    }
    l.timer = setTimeout(() => {
      if (this.kept.get(l.node) === l) this.kept.delete(l.node);
    }, KEEP_MS);
    l.timer.unref();
  }

  private letGo(l: Listing): void {
    if (l.timer !== undefined) clearTimeout(l.timer);
  }

  /** Attributes of entries [from, to). */
  private async fill(l: Listing, from: number, to: number, who: Caller) {
    const work: Promise<void>[] = [];
    for (let i = from; i < to; i++) {
      if (l.have[i] === 1 || l.names[i]!.length === 0) continue;
      const name = l.names[i]!;
      work.push(
        this.statEntry(l, name, who).then(
          (st) => {
            putAttrs(l.attrs, i, 0, st);
            l.have[i] = 1;
          },
          () => {
            l.names[i] = GONE; // gone since listed: skipped
          },
        ),
      );
    }
    await Promise.all(work);
  }

  /** A node for each of entries [from, to), its id written in its row (for readdirplus). */
  private nodesFor(l: Listing, from: number, to: number): (FsNode | undefined)[] {
    const made: (FsNode | undefined)[] = [];
    for (let i = from; i < to; i++) {
      const name = l.names[i]!;
      if (name.length === 0 || isDots(name)) {
        made.push(undefined);
        continue;
      }
      const node = this.c.nodes.learn(l.node, name, l.attrs[i * ATTR_FIELDS + 2] ?? 0);
      made.push(node);
      l.attrs[i * ATTR_FIELDS] = node.id;
    }
    return made;
  }

  private statEntry(l: Listing, name: string, who: Caller): Promise<Stat> {
    if (isDots(name)) {
      const parent = name.length === 1 ? l.path : l.path.slice(0, l.path.lastIndexOf('/')) || '/';
      return statOf(this.c, parent, who);
    }
    return statOf(this.c, l.path === '/' ? `/${name}` : `${l.path}/${name}`, who);
  }

  /** Entries [from, sent) were handed to the kernel (a lookup each); the rest were not. */
  private settleNodes(l: Listing, made: (FsNode | undefined)[], from: number, sent: number) {
    made.forEach((node, k) => {
      if (node === undefined) return;
      const i = from + k;
      if (i < sent) {
        this.c.nodes.ref(node);
        const row = i * ATTR_FIELDS;
        const mode = l.attrs[row + 3] ?? 0;
        keepDirFd(this.c, node, { mode, ino: l.attrs[row + 2] ?? -1 });
      } else {
        this.c.nodes.dropIfUnused(node);
      }
    });
  }
}

// Directory listings for the low-level binding: an open directory's first readdir lists the
// names once (the handler's readdir, with . and ..), readdir and readdirplus send them from an
// offset, stat'ing only the entries a reply can carry (or, where the handlers can, listed with
// every entry's attributes in one call). readdirplus hands the kernel each entry's node and attributes, so
// a walk that stats what it lists asks nothing more; the kernel keeps the listing cached
// across opens (cache_readdir) until the directory changes.
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
  readonly names: Buffer[];
  readonly attrs: Float64Array;
  /** Entries whose attributes (and, for readdirplus, node) are filled in. */
  readonly have: Uint8Array;
  readonly made: (FsNode | undefined)[];
}

/** Bytes an entry takes at least in a reply (a dirent; a direntplus adds its entry_out). */
const DIRENT_MIN = 32;
const DIRENTPLUS_MIN = 160;

const ENOSYS = fail('ENOSYS').errno;

const isDots = (n: Buffer): boolean =>
  (n.length === 1 && n[0] === 0x2e) || (n.length === 2 && n[0] === 0x2e && n[1] === 0x2e);

export class Listings {
  /** Listings by directory handle (handles are given out by native/lowlevel_calls.c). */
  private readonly open = new Map<number, Listing>();

  constructor(private readonly c: Ctx) {}

  /** The listing of open directory `fh` (node `ino`), made at its first readdir. */
  private async listing(fh: number, ino: number, who: Caller): Promise<Listing> {
    const had = this.open.get(fh);
    if (had !== undefined) return had;
    const path = pathOf(this.c, ino);
    const fast = await this.withAttrs(path, who);
    if (fast !== undefined) {
      const l: Listing = {
        node: ino,
        path,
        names: fast.names,
        attrs: fast.attrs,
        have: new Uint8Array(fast.names.length).fill(1),
        made: [],
      };
      this.open.set(fh, l);
      return l;
    }
    const raw = await settle<(string | Buffer)[]>((cb) => {
      this.c.h.readdir(path, cb, who);
    });
    const names = raw.map((n) => (typeof n === 'string' ? Buffer.from(n, 'latin1') : n));
    const l: Listing = {
      node: ino,
      path,
      names,
      attrs: new Float64Array(Math.max(1, names.length) * ATTR_FIELDS),
      have: new Uint8Array(names.length),
      made: [],
    };
    this.open.set(fh, l);
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
    fh: number,
    size: number,
    off: number,
    plus: boolean,
    who: Caller,
  ): Promise<void> {
    const l = await this.listing(fh, ino, who);
    const end = Math.min(
      l.names.length,
      off + Math.ceil(size / (plus ? DIRENTPLUS_MIN : DIRENT_MIN)) + 1,
    );
    await this.fill(l, off, end, plus, who);
    const { attr, entry } = timesFor(this.c, l.path);
    const next = this.c.addon.replyDir(req, size, plus, off, l.names, l.attrs, attr, entry);
    // The session thread lets the kernel keep every listing; a volatile one is dropped once read.
    if (next >= l.names.length && this.c.session !== undefined && !mayKeep(this.c, l.path)) {
      this.c.addon.notifyInvalInode(this.c.session, l.node);
    }
    if (plus) this.settleNodes(l, off, next, end);
  }

  /** The kernel closed directory `fh` (already answered). */
  releasedir(fh: number): void {
    this.open.delete(fh);
  }

  /** Attributes (and nodes, for plus) of entries [from, to). */
  private async fill(l: Listing, from: number, to: number, plus: boolean, who: Caller) {
    const work: Promise<void>[] = [];
    for (let i = from; i < to; i++) {
      if (l.have[i] === 1) continue;
      const name = l.names[i]!;
      work.push(
        this.statEntry(l, name, who).then(
          (st) => {
            putAttrs(l.attrs, i, 0, st);
            l.have[i] = 1;
          },
          () => {
            l.names[i] = Buffer.alloc(0); // gone since listed: skipped
          },
        ),
      );
    }
    await Promise.all(work);
    if (!plus) return;
    for (let i = from; i < to; i++) {
      const name = l.names[i]!;
      if (name.length === 0 || isDots(name) || l.made[i] !== undefined) continue;
      const ino = BigInt(l.attrs[i * ATTR_FIELDS + 2] ?? 0);
      const node = this.c.nodes.learn(l.node, name, ino);
      l.made[i] = node;
      l.attrs[i * ATTR_FIELDS] = node.id;
    }
  }

  private statEntry(l: Listing, name: Buffer, who: Caller): Promise<Stat> {
    if (isDots(name)) {
      const parent = name.length === 1 ? l.path : l.path.slice(0, l.path.lastIndexOf('/')) || '/';
      return statOf(this.c, parent, who);
    }
    const p =
      l.path === '/' ? `/${name.toString('latin1')}` : `${l.path}/${name.toString('latin1')}`;
    return statOf(this.c, p, who);
  }

  /** Entries [from, sent) were handed to the kernel (a lookup each); the rest were not. */
  private settleNodes(l: Listing, from: number, sent: number, to: number): void {
    for (let i = from; i < to; i++) {
      const node = l.made[i];
      if (node === undefined) continue;
      if (i < sent) {
        this.c.nodes.ref(node);
        const row = i * ATTR_FIELDS;
        const mode = l.attrs[row + 3] ?? 0;
        keepDirFd(this.c, node, { mode, ino: BigInt(l.attrs[row + 2] ?? -1) });
      } else {
        this.c.nodes.dropIfUnused(node);
      }
      l.made[i] = undefined;
    }
  }
}

// The tree of a volume's local view (base ⊕ overlay) without walking the volume: base's tree,
// with every path on the changed-path list (changed-paths.ts) looked at again in the view's
// directory. Unchanged subtrees keep base's ids unread; a changed file is read (and stored)
// once per stat; a changed directory (made, renamed into place) is walked whole. After a crash
// the list is not trusted: the whole view is scanned once (incrementally, through a scan
// cache) and the list is rebuilt from what differs from base.
//
// Paths that equal base again (synced, or changed back) leave the list on the way. The caller
// runs this between syncs (Volume.between): a sync writes both base and the view.
//
// Hard links made in the mount are links in the view's directory; the tree records their
// groups as a directory snapshot does (links.ts), found among the changed paths and the names
// remembered from the last tree (local-links.ts). A sync makes them links on the server
// (merge/links.ts).
import { readdir } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { diffTrees } from '../merge/diff.js';
import type { Path } from '../merge/plan.js';
import { REF_BASE, REF_LOCAL } from '../store/kv.js';
import { entryOfSync, fsPath, lstatOrNoneSync } from '../scan/fs-entry.js';
import { HeldRecords, scanReplica } from '../scan/scan-replica.js';
import { withLinks } from '../scan/links.js';
import { closeMtime } from '../scan/stamp.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { readXattrsSync } from '../scan/xattrs.js';
import {
  byteString,
  changedFields,
  EMPTY_TREE_ID,
  joinPath,
  sortTree,
  type Entry,
  type Hash,
} from '../tree/index.js';
import { nowNs, type ChangedPaths } from './changed-paths.js';
import { localLinkKeys, rememberedMembers } from './local-links.js';
import { SeenStats } from './local-memo.js';
import type { Volume } from './volume.js';
import { placeholderHook, type PlaceholderHook } from './placeholder-scan.js';

/** The ref naming the last tree composed (so its objects are reachable until the next). */
export const REF_VOLUME_LOCAL = 'volume/local';

export interface LocalTree {
  readonly id: Hash;
  /** Files read (and stored) to make it, and their bytes. */
  readonly hashedFiles: number;
  readonly hashedBytes: number;
  /** Paths on the changed-path list when it started. */
  readonly changedPaths: number;
  /** The whole view was scanned (the list was not trusted). */
  readonly scanned: boolean;
  /** The view's directories were listed to find hard links (local-links.ts). */
  readonly linksWalked: boolean;
  /** The last tree composed, still true of the view (local-memo.ts): nothing composed. */
  readonly reused?: boolean;
}

interface Node {
  self: boolean;
  readonly kids: Map<string, Node>;
}

function trieOf(paths: readonly Path[]): Node {
  const root: Node = { self: false, kids: new Map() };
  for (const p of paths) {
    let n = root;
    for (const name of p.split('/')) {
      let k = n.kids.get(name);
      if (k === undefined) n.kids.set(name, (k = { self: false, kids: new Map() }));
      n = k;
    }
    n.self = true;
  }
  return root;
}

/** `e` is what base has at its path (no field differs, and a file's id is known alike). */
function sameAsBase(e: Entry | undefined, b: Entry | undefined): boolean {
  if (e === undefined || b === undefined) return e === b;
  if (changedFields(b, e).length > 0) return false;
  return e.kind !== 'file' || e.id === b.id;
}

const variantsOf = (v: Volume): Set<Path> =>
  new Set(v.conflicts.list().flatMap((c) => (c.variantPath === undefined ? [] : [c.variantPath])));

/** The local view's tree, stored, and named by REF_VOLUME_LOCAL. */
export async function localTree(
  v: Volume,
  changed: ChangedPaths,
  /** Name the tree by REF_VOLUME_LOCAL (not needed when the caller names it itself). */
  name = true,
): Promise<LocalTree> {
  const base = v.store.getRef(REF_BASE) ?? EMPTY_TREE_ID;
  const since = changed.now;
  const count = { files: 0, bytes: 0 };
  const changedPaths = changed.size;
  const variants = variantsOf(v);
  const linksDb = v.store.cacheDb('volume-links');
  const whole = async (): Promise<LocalTree> => {
    const scanned = await scanWhole(v, changed, base, since, count);
    const links = await localLinkKeys(linksDb, v.local, undefined, variants);
    const id = withLinks(v.store, scanned, links.keys);
    if (id !== scanned) await v.store.setRef(REF_VOLUME_LOCAL, id);
    return {
      id,
      changedPaths,
      hashedFiles: count.files,
      hashedBytes: count.bytes,
      scanned: true,
      linksWalked: true,
    };
  };
  const memo = changed.memo;
  if (!changed.complete) {
    memo.forget();
    return whole();
  }
  const variantsKey = [...variants].sort().join('\0');
  const reused = memo.reuse({
    base,
    seq: since,
    variants: variantsKey,
    named: v.store.getRef(REF_VOLUME_LOCAL),
  });
  if (reused !== undefined) {
    return {
      id: reused,
      changedPaths,
      hashedFiles: 0,
      hashedBytes: 0,
      scanned: false,
      linksWalked: false,
      reused: true,
    };
  }
  // Taken before composing, which drops paths that equal base again from the list.
  const candidates = changed.list();
  let composed: Hash;
  let links: Awaited<ReturnType<typeof localLinkKeys>>;
  const seen = new SeenStats(nowNs());
  try {
    const c = new Composer(v, changed, variants, since, count, seen);
    // Every name of a linked file too: a write through one changed them all (one lstat each;
    // read again only where the stat moved).
    const members = rememberedMembers(linksDb);
    const look = members.length === 0 ? candidates : [...new Set([...candidates, ...members])];
    composed = await c.dir('', base, trieOf(look));
    links = await localLinkKeys(linksDb, v.local, candidates, variants);
  } catch (err) {
    // A changed path deeper than PATH_MAX: the composer reaches paths whole, the scan walks
    // directory by directory and reaches every depth.
    memo.forget();
    if ((err as { code?: unknown }).code !== 'ENAMETOOLONG') throw err;
    return whole();
  }
  const id = withLinks(v.store, composed, links.keys);
  if (name) {
    // The same tree as composed last (in the background, while the writes paused) is named already.
    if (v.store.getRef(REF_VOLUME_LOCAL) !== id) await v.store.setRef(REF_VOLUME_LOCAL, id);
    memo.record(Buffer.from(v.local), { id, base, seq: since, variants: variantsKey, seen });
  } else memo.forget();
  return {
    id,
    changedPaths,
    hashedFiles: count.files,
    hashedBytes: count.bytes,
    scanned: false,
    linksWalked: links.walked,
  };
}

/**
 * The view's tree for a sync (the sync runs between syncs, so nothing else writes base or the
 * view meanwhile), with the base it is over: composed where the changed-path list is trusted,
 * else scanned whole once, which makes the list trusted again.
 * Not where a placeholder was renamed since the last sync: that sync settles it first
 * (settle-moved.ts), which changes the view and base under any tree composed before.
 */
export async function composeForSync(
  v: Volume,
  changed: ChangedPaths,
): Promise<{ id: Hash; base: Hash } | undefined> {
  if (!v.placeholders.moved('').next().done) return undefined;
  const base = v.store.getRef(REF_BASE) ?? EMPTY_TREE_ID;
  return { id: (await localTree(v, changed)).id, base };
}

/** The whole view, scanned as a sync scans it; the list becomes what differs from base. */
async function scanWhole(
  v: Volume,
  changed: ChangedPaths,
  base: Hash,
  since: number,
  count: { files: number; bytes: number },
): Promise<Hash> {
  const held = new HeldRecords();
  const prev = v.store.getRef(REF_LOCAL);
  const id = await scanReplica(v.store, v.local, {
    content: 'hash',
    // A whole scan follows a daemon that did not stop cleanly: the temporary files it (a cull
    // making placeholders, a sync writing) left are litter, removed here. Nothing else writes
    // temporary files in the view meanwhile: culls, syncs and resolves run one at a time with
    // this scan (Volume.between); the prefix is tether's own (no scan ever syncs such a name).
    removeTemps: true,
    base,
    known: prev === undefined ? [] : [prev],
    exclude: variantsOf(v),
    cache: v.store.cacheDb('volume-local'),
    hold: held,
    placeholder: placeholderHook(v.store, v.placeholders),
    read: async (abs, path, st) => {
      const at = nowNs();
      const r = await v.store.putBlobFile(abs, st.size);
      changed.remember(path, r.stat, r.id, at);
      count.files++;
      count.bytes += r.size;
      return r.id;
    },
  });
  await v.store.setRef(REF_VOLUME_LOCAL, id, undefined, held.write);
  const differ = diffTrees(v.store, base, id)
    .filter((c) => c.a?.kind !== 'dir' || c.b?.kind !== 'dir' || c.fields.length > 0)
    .map((c) => c.path);
  changed.replace(differ, since);
  await changed.settled();
  return id;
}

class Composer {
  private readonly root: Buffer;
  private readonly placeholder: PlaceholderHook;

  constructor(
    private readonly v: Volume,
    private readonly changed: ChangedPaths,
    private readonly variants: ReadonlySet<Path>,
    private readonly since: number,
    private readonly count: { files: number; bytes: number },
    private readonly seen: SeenStats,
  ) {
    this.root = Buffer.from(v.local);
    this.placeholder = placeholderHook(v.store, v.placeholders);
  }

  /** Base's tree at `path` with the changed paths of `node` below it applied. */
  async dir(path: Path, baseId: Hash | undefined, node: Node): Promise<Hash> {
    const entries = this.listing(baseId);
    for (const [name, kid] of node.kids) {
      const p = joinPath(path, name);
      const b = entries.get(name);
      const e = await this.child(p, name, b, kid);
      if (e === undefined) entries.delete(name);
      else entries.set(name, e);
      if (kid.self && sameAsBase(e, b)) this.changed.forget(p, this.since, b?.kind === 'dir');
    }
    return this.put(sortTree([...entries.values()]));
  }

  private listing(id: Hash | undefined): Map<string, Entry> {
    if (id === undefined) return new Map();
    return new Map(this.v.store.readTree(id).map((e) => [e.name, e]));
  }

  private left(p: Path, name: string): boolean {
    return name.startsWith(TEMP_PREFIX) || this.variants.has(p);
  }

  private async child(
    p: Path,
    name: string,
    b: Entry | undefined,
    kid: Node,
  ): Promise<Entry | undefined> {
    if (this.left(p, name)) return undefined;
    const abs = fsPath(this.root, p);
    // Metadata calls without the event loop, as a scan makes them (microseconds each).
    const st = lstatOrNoneSync(abs);
    this.seen.saw(p, st);
    if (st === undefined) return undefined;
    if (!kid.self && st.isDirectory() && b?.kind === 'dir') {
      // Only something below changed: the directory's own fields as they are now.
      const e = this.meta(abs, name, st);
      return e === undefined ? undefined : { ...e, id: await this.dir(p, b.id, kid) };
    }
    return this.entry(p, name, st, b);
  }

  /** The entry of `p` as it is in the view (a directory walked whole). */
  private async entry(
    p: Path,
    name: string,
    st: BigIntStats,
    b: Entry | undefined,
  ): Promise<Entry | undefined> {
    const abs = fsPath(this.root, p);
    const e = this.meta(abs, name, st);
    if (e === undefined) return undefined;
    if (e.kind === 'dir')
      return { ...e, id: await this.walk(p, b?.kind === 'dir' ? b.id : undefined) };
    if (e.kind !== 'file') return e;
    // Never fetched: base's content (here or where it was renamed from), with the mode and
    // owner it has now; left out where that content has no id yet (placeholder-scan.ts).
    const ph = this.placeholder(p, st);
    if (ph === true && b?.kind === 'file') return { ...b, mode: e.mode, uid: e.uid, gid: e.gid };
    if (ph === null) return undefined;
    if (typeof ph === 'object') return { ...ph, name, mode: e.mode, uid: e.uid, gid: e.gid };
    let f: Entry = e;
    let id = this.changed.idAt(p, st);
    if (id === undefined) {
      const at = nowNs();
      const r = await this.v.store.putBlobFile(abs, Number(st.size));
      this.count.files++;
      this.count.bytes += r.size;
      id = r.id;
      this.changed.remember(p, r.stat, id, at);
      f = { ...f, size: r.size, mtimeNs: r.stat.mtimeNs };
    }
    f = { ...f, id };
    // Base's mtime where only the replica's time granularity tells them apart (as a scan does).
    if (
      b?.kind === 'file' &&
      b.id === id &&
      b.size === f.size &&
      closeMtime(b.mtimeNs, f.mtimeNs)
    ) {
      f = { ...f, mtimeNs: b.mtimeNs };
    }
    return f;
  }

  /** Fields from lstat, and user xattrs of files and directories. */
  private meta(abs: Buffer, name: string, st: BigIntStats): Entry | undefined {
    const e = entryOfSync(abs, name, st);
    if (e === undefined || (e.kind !== 'file' && e.kind !== 'dir')) return e;
    const xattrs = readXattrsSync(abs);
    return xattrs === undefined ? e : { ...e, xattrs };
  }

  /** Every entry under `path`, read from the view (base's ids only through placeholders). */
  private async walk(path: Path, baseId: Hash | undefined): Promise<Hash> {
    const abs = fsPath(this.root, path);
    const base = this.listing(baseId);
    const out: Entry[] = [];
    let names: Buffer[];
    try {
      names = await readdir(abs, { encoding: 'buffer' });
    } catch {
      names = []; // gone meanwhile: empty, as a listing made a moment later would be
    }
    for (const raw of names) {
      const name = byteString(raw);
      const p = joinPath(path, name);
      if (this.left(p, name)) continue;
      const st = lstatOrNoneSync(fsPath(this.root, p));
      this.seen.saw(p, st);
      if (st === undefined) continue;
      const e = await this.entry(p, name, st, base.get(name));
      if (e !== undefined) out.push(e);
    }
    return this.put(sortTree(out));
  }

  /** A listing stored, and counted for the snapshot's totals from its entries. */
  private put(entries: Entry[]): Hash {
    const id = this.v.store.putTree(entries);
    this.v.totals.note(this.v.store, id, entries);
    return id;
  }
}

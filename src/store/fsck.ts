// Verify a store: every object against its id, every tree decodes, every ref names a stored
// tree, and everything reachable from the refs is present. With `repair`, corrupt objects are
// moved to quarantine/ (never deleted) and dropped from the database, and the report says
// which refs they affect, so the user knows which snapshots lost what.
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeTree, hashBytes, isHash, joinPath, type Hash, type Tree } from '../tree/index.js';
import { unreachable } from './gc.js';
import type { Store } from './store.js';
import { fsckRecords, type RecordCheck } from './fsck-records.js';
import { hashFile } from './stream.js';

export interface FsckProblem {
  readonly kind: 'corrupt' | 'missing' | 'undecodable' | 'stray' | 'damaged';
  readonly object: string;
  readonly detail: string;
  /** Refs from which the object is reachable (for missing and corrupt objects). */
  refs: string[];
  quarantined?: string;
}

export interface FsckReport {
  readonly trees: number;
  readonly blobs: number;
  readonly refs: number;
  /** Records of the other layers (plans, conflicts, settings, labels, caches). */
  readonly records: number;
  readonly problems: FsckProblem[];
  readonly repaired: boolean;
  /** Objects no ref or record reaches: not a problem, what `tether gc` would free. */
  readonly unreferenced: { readonly count: number; readonly bytes: number };
}

export interface FsckOptions {
  readonly repair?: boolean;
  readonly onProgress?: (checked: number) => void;
  /** Structural checks of records, by database name, from the layers that own them. */
  readonly recordChecks?: Readonly<Record<string, RecordCheck>>;
}

export async function fsck(store: Store, opts: FsckOptions = {}): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  const bad = new Map<Hash, FsckProblem>();
  let checked = 0;
  const tick = (): void => {
    checked++;
    if (checked % 1000 === 0) opts.onProgress?.(checked);
  };
  const quarantine: { kind: 'tree' | 'blob' | 'file'; id: Hash; bytes?: Buffer; path?: string }[] =
    [];

  let trees = 0;
  for (const { id, bytes } of store.treeRecords()) {
    trees++;
    tick();
    if (hashBytes(bytes) !== id) {
      const p: FsckProblem = {
        kind: 'corrupt',
        object: `tree ${id}`,
        detail: 'bytes do not match the id',
        refs: [],
      };
      problems.push(p);
      bad.set(id, p);
      quarantine.push({ kind: 'tree', id, bytes: Buffer.from(bytes) });
      continue;
    }
    try {
      decodeTree(bytes);
    } catch (err) {
      const p: FsckProblem = {
        kind: 'undecodable',
        object: `tree ${id}`,
        detail: (err as Error).message,
        refs: [],
      };
      problems.push(p);
      bad.set(id, p);
      quarantine.push({ kind: 'tree', id, bytes: Buffer.from(bytes) });
    }
  }
  let blobs = 0;
  for (const { id, bytes } of store.blobRecords()) {
    blobs++;
    tick();
    if (hashBytes(bytes) !== id) {
      const p: FsckProblem = {
        kind: 'corrupt',
        object: `blob ${id}`,
        detail: 'bytes do not match the id',
        refs: [],
      };
      problems.push(p);
      bad.set(id, p);
      quarantine.push({ kind: 'blob', id, bytes: Buffer.from(bytes) });
    }
  }
  const blobRoot = join(store.dir, 'blobs');
  for (const sub of await readdir(blobRoot, { withFileTypes: true })) {
    if (!sub.isDirectory()) {
      problems.push({
        kind: 'stray',
        object: join(blobRoot, sub.name),
        detail: 'not a blob directory',
        refs: [],
      });
      continue;
    }
    for (const name of await readdir(join(blobRoot, sub.name))) {
      const id = sub.name + name;
      const path = join(blobRoot, sub.name, name);
      blobs++;
      tick();
      if (!isHash(id)) {
        problems.push({
          kind: 'stray',
          object: path,
          detail: 'not named by an object id',
          refs: [],
        });
        continue;
      }
      if ((await hashFile(path)) !== id) {
        const p: FsckProblem = {
          kind: 'corrupt',
          object: `blob ${id}`,
          detail: `file ${path} does not match the id`,
          refs: [],
        };
        problems.push(p);
        bad.set(id, p);
        quarantine.push({ kind: 'file', id, path });
      }
    }
  }

  // Reachability from every ref: which refs reach a bad or missing object.
  const damagedRefs: string[] = [];
  const refs = store.listRefs('').filter(({ name, id }) => {
    if (isHash(id)) return true;
    damagedRefs.push(name);
    problems.push({
      kind: 'damaged',
      object: `ref ${name}`,
      detail: 'it names no object',
      refs: [],
    });
    return false;
  });
  const missing = new Map<Hash, FsckProblem>();
  const goodTrees = new Map<Hash, Tree | null>();
  const readTree = (id: Hash): Tree | null => {
    let t = goodTrees.get(id);
    if (t !== undefined) return t;
    try {
      t = store.readTree(id);
    } catch {
      t = null;
    }
    goodTrees.set(id, t);
    return t;
  };
  for (const { name, id } of refs) {
    const seen = new Set<Hash>();
    const cacheOnly = name.startsWith('sync/');
    const note = (obj: Hash, what: string): void => {
      const b = bad.get(obj);
      if (b !== undefined) {
        if (!b.refs.includes(name)) b.refs.push(name);
        return;
      }
      if (!store.has(obj)) {
        let m = missing.get(obj);
        if (m === undefined) {
          m = {
            kind: 'missing',
            object: `${what} ${obj}`,
            detail: 'referenced but not stored',
            refs: [],
          };
          missing.set(obj, m);
          problems.push(m);
        }
        if (!m.refs.includes(name)) m.refs.push(name);
      }
    };
    const visit = (tid: Hash, dir: string): void => {
      if (seen.has(tid)) return;
      seen.add(tid);
      note(tid, 'tree');
      const t = readTree(tid);
      if (t === null) {
        if (store.has(tid) && !bad.has(tid)) {
          let m = missing.get(tid);
          if (m === undefined) {
            m = {
              kind: 'missing',
              object: `tree ${tid}`,
              detail: 'named as a tree but stored as a blob',
              refs: [],
            };
            missing.set(tid, m);
            problems.push(m);
          }
          if (!m.refs.includes(name)) m.refs.push(name);
        }
        return;
      }
      for (const e of t) {
        if (e.id === undefined) continue;
        if (e.kind === 'dir') visit(e.id, joinPath(dir, e.name));
        // Sync states are a cache of the replicas (MERGE.md rule P): contents they name
        // need not be held. Snapshots must be restorable, so theirs must.
        else if (e.kind === 'file' && !cacheOnly && !seen.has(e.id)) {
          seen.add(e.id);
          note(e.id, 'blob');
        }
      }
    };
    visit(id, '');
  }

  const recs = await fsckRecords(store, opts.recordChecks ?? {}, opts.repair === true);
  problems.push(...recs.problems);

  // A ref that names no object cannot be restored: it goes (a snapshot is lost, a sync plans
  // afresh from its scans).
  if (opts.repair === true) for (const name of damagedRefs) await store.deleteRef(name);

  const repaired =
    opts.repair === true &&
    (quarantine.length > 0 || recs.problems.length > 0 || damagedRefs.length > 0);
  if (repaired) {
    const qdir = join(store.dir, 'quarantine');
    await mkdir(qdir, { recursive: true, mode: 0o700 });
    for (const q of quarantine) {
      const dest = join(qdir, `${q.kind === 'file' ? 'blob' : q.kind}-${q.id}-${Date.now()}`);
      if (q.kind === 'file' && q.path !== undefined) {
        await rename(q.path, dest);
      } else if (q.bytes !== undefined) {
        await writeFile(dest, q.bytes, { mode: 0o400 });
        await store.dropRecord(q.kind === 'tree' ? 'tree' : 'blob', q.id);
      }
      const p = bad.get(q.id);
      if (p !== undefined) p.quarantined = dest;
    }
  }
  // Scan caches may vouch for files whose objects are damaged or gone: after a repair the next
  // scans read everything again.
  if (opts.repair === true && !store.readOnly) await store.dropCaches();
  opts.onProgress?.(checked);
  const unreferenced = await unreachable(store);
  return {
    trees,
    blobs,
    refs: refs.length,
    records: recs.records,
    problems,
    repaired,
    unreferenced,
  };
}

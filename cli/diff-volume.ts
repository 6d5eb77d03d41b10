// `tether diff` about a mounted volume: @base (the last synced tree), @local (what the mount
// shows: its daemon composes it), @server (the server as the last sync saw it), the volume's
// snapshots, the mount itself (its @local), or a plain directory (scanned into the volume's
// store by its daemon). Nothing is read through the mount. Given a path inside the volume,
// the volume's trees are compared there only.
import { TetherError } from '../src/errors.js';
import { diffTrees, type Change } from '../src/merge/diff.js';
import type { Path } from '../src/merge/plan.js';
import { REF_BASE, REF_SERVER } from '../src/store/kv.js';
import type { Store } from '../src/store/store.js';
import { EMPTY_TREE_ID, display, type Hash } from '../src/tree/index.js';
import { isUnder } from '../src/volume/changed-paths.js';
import { snapshotTree } from './base.js';
import { ask, LONG_MS, locate, type Located } from './volume.js';

const REFS: Record<string, string> = { '@base': REF_BASE, '@server': REF_SERVER };

/** What an argument names, resolved once the daemon has answered. */
type Spec =
  | { readonly kind: 'id'; readonly id: Hash; readonly volume: boolean }
  | { readonly kind: 'ref'; readonly ref: string; readonly arg: string }
  | { readonly kind: 'snapshot'; readonly name: string };

/** A directory argument contains '/' or starts with '.'; anything else names a tree. */
const isDirArg = (arg: string): boolean => arg.includes('/') || arg.startsWith('.');

/** The volume a diff is about: the third argument, or an argument inside a mount. */
export function volumeOfDiff(a: string, b: string, where: string | undefined): Located | undefined {
  if (where !== undefined) {
    const l = locate(where);
    if (l === undefined) {
      throw new TetherError('EUSAGE', `${where} is not in a tether mount: give a mount point`);
    }
    return l;
  }
  for (const arg of [a, b]) {
    const l = isDirArg(arg) ? locate(arg) : undefined;
    if (l !== undefined) return l;
  }
  return undefined;
}

async function specOf(l: Located, arg: string): Promise<Spec> {
  if (arg === '@local') {
    const r = await ask(l, { op: 'local-tree' }, LONG_MS);
    return { kind: 'id', id: String(r['id']), volume: true };
  }
  const ref = REFS[arg];
  if (ref !== undefined) return { kind: 'ref', ref, arg };
  if (!isDirArg(arg)) return { kind: 'snapshot', name: arg };
  const m = locate(arg);
  if (m !== undefined) {
    if (m.storeDir !== l.storeDir) {
      throw new TetherError('EUSAGE', `${arg} is in another volume (${m.mountpoint})`);
    }
    return specOf(l, '@local');
  }
  const r = await ask(l, { op: 'scan-dir', dir: arg }, LONG_MS);
  return { kind: 'id', id: String(r['id']), volume: false };
}

function idOf(store: Store, s: Spec): { id: Hash; volume: boolean } {
  switch (s.kind) {
    case 'id':
      return s;
    case 'snapshot':
      return { id: snapshotTree(store, s.name), volume: true };
    case 'ref': {
      const id = store.getRef(s.ref);
      if (id === undefined) {
        throw new TetherError('ENOTFOUND', `${s.arg} is not known yet: the volume never synced`);
      }
      return { id, volume: true };
    }
  }
}

/** The tree at `path` in `id` (an empty one where nothing is). */
function subtreeAt(store: Store, id: Hash, path: Path): Hash {
  let at = id;
  for (const name of path === '' ? [] : path.split('/')) {
    const e = store.readTree(at).find((x) => x.name === name);
    if (e === undefined) return EMPTY_TREE_ID;
    if (e.kind !== 'dir' || e.id === undefined) {
      throw new TetherError('EUSAGE', `${display(path)} is not a directory in the volume`);
    }
    at = e.id;
  }
  return at;
}

/** The daemon's part first (it writes the store), then the comparison in a read-only store. */
export async function volumeChanges(
  l: Located,
  a: string,
  b: string,
  open: (dir: string) => Promise<Store>,
): Promise<Change[]> {
  // The third argument, or else the mount argument itself, says where in the volume to look.
  const at = l.path;
  const specs = [await specOf(l, a), await specOf(l, b)] as const;
  const store = await open(l.storeDir);
  try {
    const [x, y] = specs.map((s) => idOf(store, s)) as [
      { id: Hash; volume: boolean },
      { id: Hash; volume: boolean },
    ];
    if (x.volume && y.volume) {
      return diffTrees(store, x.id, y.id).filter((c) => isUnder(c.path, at));
    }
    const pick = (t: { id: Hash; volume: boolean }): Hash =>
      t.volume ? subtreeAt(store, t.id, at) : t.id;
    return diffTrees(store, pick(x), pick(y));
  } finally {
    await store.close();
  }
}

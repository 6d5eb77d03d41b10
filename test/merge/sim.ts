// A tiny in-memory simulator of apply: the three trees as path → entry maps, a plan executed
// against them with every check a real apply makes (each action finds what it expects, parents
// exist, content is copied from where the plan says and is the content it says), then the
// base updates committed as plan.ts defines them. Properties use it to check "no lost update",
// progress, the base rule and idempotence without touching a disk.
import { node } from '../../src/merge/emit.js';
import type { Action, Path, Plan, Side } from '../../src/merge/plan.js';
import { entriesEqual, type Entry, type Hash } from '../../src/tree/index.js';
import type { MemReader } from './fixtures.js';

export interface World {
  base: Map<Path, Entry>;
  local: Map<Path, Entry>;
  server: Map<Path, Entry>;
  /** Local variants kept aside (where sync-dirs writes sibling files, a volume its store). */
  variants: Map<Path, Entry>;
}

export class SimError extends Error {}

const parentOf = (p: Path): Path => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const nameOf = (p: Path): string => p.slice(p.lastIndexOf('/') + 1);
const under = (p: Path, root: Path): boolean => p === root || p.startsWith(root + '/');

export function worldOf(reader: MemReader, base: Hash, local: Hash, server: Hash): World {
  return {
    base: reader.flatten(base),
    local: reader.flatten(local),
    server: reader.flatten(server),
    variants: new Map(),
  };
}

export function cloneWorld(w: World): World {
  return {
    base: new Map(w.base),
    local: new Map(w.local),
    server: new Map(w.server),
    variants: new Map(w.variants),
  };
}

export function rootsOf(reader: MemReader, w: World): { base: Hash; local: Hash; server: Hash } {
  return {
    base: reader.fromFlat(w.base),
    local: reader.fromFlat(w.local),
    server: reader.fromFlat(w.server),
  };
}

/** Equal as a directory node (children aside) or, for leaves, field by field. */
export function sameNode(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return entriesEqual(node(a), node(b));
}

function check(ok: boolean, what: string, a: Action): void {
  if (!ok) throw new SimError(`${what}: ${a.op} ${a.side} ${JSON.stringify(a.path)}`);
}

function removeTree(m: Map<Path, Entry>, root: Path): Map<Path, Entry> {
  const gone = new Map<Path, Entry>();
  for (const [p, e] of m) {
    if (under(p, root)) {
      gone.set(p, e);
      m.delete(p);
    }
  }
  return gone;
}

function parentIsDir(m: Map<Path, Entry>, p: Path): boolean {
  const parent = parentOf(p);
  return parent === '' || m.get(parent)?.kind === 'dir';
}

function applyAction(w: World, a: Action, inReplica: boolean): void {
  const side = (s: Side): Map<Path, Entry> => (s === 'local' ? w.local : w.server);
  const m = side(a.side);
  const cur = m.get(a.path);
  switch (a.op) {
    case 'put': {
      check(
        a.expect === null ? cur === undefined : sameNode(cur, a.expect),
        'put: target moved',
        a,
      );
      check(parentIsDir(m, a.path), 'put: no parent', a);
      const src = side(a.from).get(a.fromPath);
      check(
        src !== undefined &&
          src.kind === a.entry.kind &&
          src.size === a.entry.size &&
          src.target === a.entry.target &&
          src.id === a.entry.id,
        'put: source does not hold that content',
        a,
      );
      m.set(a.path, a.entry);
      return;
    }
    case 'mkdir':
      check(cur === undefined, 'mkdir: path taken', a);
      check(parentIsDir(m, a.path), 'mkdir: no parent', a);
      m.set(a.path, a.entry);
      return;
    case 'setmeta': {
      check(sameNode(cur, a.expect), 'setmeta: target moved', a);
      let next: Entry = cur!;
      for (const f of a.fields) {
        switch (f) {
          case 'mode':
          case 'uid':
          case 'gid':
          case 'rdev':
            next = { ...next, [f]: a.entry[f] };
            break;
          case 'mtime':
            next = { ...next, mtimeNs: a.entry.mtimeNs };
            break;
          case 'xattrs': {
            const { xattrs: _x, ...rest } = next;
            next = a.entry.xattrs === undefined ? rest : { ...rest, xattrs: a.entry.xattrs };
            break;
          }
          case 'content':
          case 'kind':
            check(false, `setmeta of ${f}`, a);
        }
      }
      m.set(a.path, next);
      return;
    }
    case 'delete':
      check(sameNode(cur, a.expect), 'delete: target moved', a);
      for (const p of m.keys()) check(!(p !== a.path && under(p, a.path)), 'delete: not empty', a);
      m.delete(a.path);
      return;
    case 'rename': {
      check(sameNode(cur, a.expect), 'rename: source moved', a);
      check(!m.has(a.to) && parentIsDir(m, a.to), 'rename: target taken or no parent', a);
      check(a.entry.name === nameOf(a.to), 'rename: entry name', a);
      for (const [p, e] of removeTree(m, a.path)) {
        m.set(a.to + p.slice(a.path.length), p === a.path ? { ...e, name: nameOf(a.to) } : e);
      }
      return;
    }
    case 'variant': {
      check(a.side === 'local', 'variant on the server', a);
      check(sameNode(cur, a.entry), 'variant: local moved', a);
      check(!m.has(a.variantPath) && !w.variants.has(a.variantPath), 'variant: name taken', a);
      check(parentOf(a.variantPath) === parentOf(a.path), 'variant: not a sibling', a);
      for (const [p, e] of removeTree(m, a.path)) {
        const vp = a.variantPath + p.slice(a.path.length);
        const ve = p === a.path ? { ...e, name: nameOf(a.variantPath) } : e;
        w.variants.set(vp, ve);
        // sync-dirs writes the variant as a sibling file into the local replica.
        if (inReplica) m.set(vp, ve);
      }
      return;
    }
  }
}

function commitBase(reader: MemReader, base: Map<Path, Entry>, path: Path, e: Entry | null): void {
  if (e === null) {
    removeTree(base, path);
    return;
  }
  if (e.kind !== 'dir') {
    removeTree(base, path);
    base.set(path, e);
    return;
  }
  if (e.id !== undefined) {
    removeTree(base, path);
    base.set(path, e);
    for (const [p, c] of reader.flatten(e.id)) base.set(`${path}/${p}`, c);
    return;
  }
  if (base.get(path)?.kind !== 'dir') removeTree(base, path);
  base.set(path, e);
}

/**
 * Apply `plan` to a copy of `w`. With `upTo`, only the first `upTo` actions run (an apply
 * killed there), and only the base updates whose actions all ran are committed. With
 * `variantsInReplica`, variants are also written into the local tree, as sync-dirs does.
 */
export function applyPlan(
  reader: MemReader,
  w0: World,
  plan: Plan,
  upTo?: number,
  opts: { variantsInReplica?: boolean } = {},
): World {
  const w = cloneWorld(w0);
  const n = upTo ?? plan.actions.length;
  plan.actions.forEach((a, i) => {
    if (i < n) applyAction(w, a, opts.variantsInReplica ?? false);
  });
  for (const u of plan.baseUpdates) {
    if (u.after === undefined) throw new SimError(`base update of ${u.path} has no dependencies`);
    if (u.after.every((i) => i < n)) commitBase(reader, w.base, u.path, u.entry);
  }
  return w;
}

/** Paths where two path maps differ (directories compared as nodes). */
export function differences(a: ReadonlyMap<Path, Entry>, b: ReadonlyMap<Path, Entry>): Path[] {
  const out: Path[] = [];
  for (const [p, e] of a) if (!sameNode(e, b.get(p))) out.push(p);
  for (const p of b.keys()) if (!a.has(p)) out.push(p);
  return out.sort();
}

/** The top paths of the variants a world keeps (a directory variant counts once). */
export function variantRoots(w: World): Set<Path> {
  const keys = [...w.variants.keys()];
  return new Set(keys.filter((p) => !keys.some((q) => p.startsWith(q + '/'))));
}

// Random trees for the merge properties: a small base over a tiny alphabet (so sides often
// touch the same paths and make equal changes), and two sides derived from it by random edits.
import fc from 'fast-check';
import type { Path } from '../../src/merge/plan.js';
import { type Entry, type Hash } from '../../src/tree/index.js';
import { dir, fifo, file, link, T0, type MemReader, type Node, type Spec } from './fixtures.js';

const NAMES = ['a', 'b', 'c'];
const CONTENTS = ['1', '2', '3'];

const leafArb: fc.Arbitrary<Node> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CONTENTS) },
  { weight: 1, arbitrary: fc.constantFrom(...CONTENTS).map((c) => file(c, { mode: 0o755 })) },
  { weight: 1, arbitrary: fc.constantFrom('t', 'u').map((t) => link(t)) },
);

/** Leaves including fifos and files known only by their stamp. */
const mixedLeafArb: fc.Arbitrary<Node> = fc.oneof(
  { weight: 3, arbitrary: leafArb },
  { weight: 1, arbitrary: fc.constant(fifo()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...CONTENTS).map((c) => file(c, { stampOnly: true })),
  },
);

function specArb(depth: number, leaf: fc.Arbitrary<Node> = leafArb): fc.Arbitrary<Spec> {
  const nodeArb: fc.Arbitrary<Node> =
    depth <= 0 ? leaf : fc.oneof({ weight: 3, arbitrary: leaf }, specArb(depth - 1, leaf));
  return fc
    .array(fc.tuple(fc.constantFrom(...NAMES), nodeArb), { maxLength: 3 })
    .map((pairs) => Object.fromEntries(pairs));
}

export type Mutation =
  | { op: 'edit'; i: number; content: string }
  | { op: 'chmod'; i: number; mode: number }
  | { op: 'touch'; i: number; dt: number }
  | { op: 'xattr'; i: number; value: string }
  | { op: 'delete'; i: number }
  | { op: 'add'; i: number; name: string; node: Node }
  | { op: 'retype'; i: number }
  | { op: 'move'; i: number; j: number; name: string };

const idx = fc.nat({ max: 50 });
const nameArb = fc.constantFrom(...NAMES, 'n');
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant('edit' as const),
    i: idx,
    content: fc.constantFrom(...CONTENTS, '4'),
  }),
  fc.record({
    op: fc.constant('chmod' as const),
    i: idx,
    mode: fc.constantFrom(0o600, 0o644, 0o755),
  }),
  fc.record({ op: fc.constant('touch' as const), i: idx, dt: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('xattr' as const), i: idx, value: fc.constantFrom('x', 'y') }),
  fc.record({ op: fc.constant('delete' as const), i: idx }),
  fc.record({
    op: fc.constant('add' as const),
    i: idx,
    name: nameArb,
    node: fc.oneof(leafArb, specArb(1)),
  }),
  fc.record({ op: fc.constant('retype' as const), i: idx }),
  fc.record({ op: fc.constant('move' as const), i: idx, j: idx, name: nameArb }),
);

export const mutationsArb = fc.array(mutationArb, { maxLength: 4 });
export const baseArb = specArb(2);
/** Bases with fifos and stamp-only files, and edits that add them too. */
export const mixedBaseArb = specArb(2, mixedLeafArb);
export const mixedMutationsArb = fc.array(
  fc.oneof(
    mutationArb,
    fc.record({
      op: fc.constant('add' as const),
      i: idx,
      name: nameArb,
      node: mixedLeafArb,
    }),
  ),
  { maxLength: 4 },
);
/** Touch-only edits: a side that did nothing but change mtimes. */
export const touchesArb = fc.array(
  fc.record({ op: fc.constant('touch' as const), i: idx, dt: fc.integer({ min: 1, max: 3 }) }),
  { maxLength: 3 },
);

const under = (p: Path, root: Path): boolean => p === root || p.startsWith(root + '/');
const parentOf = (p: Path): Path => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

function insert(reader: MemReader, m: Map<Path, Entry>, path: Path, n: Node): void {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const e = reader.entry(name, n);
  m.set(path, e);
  if (e.kind === 'dir' && e.id !== undefined) {
    for (const [p, c] of reader.flatten(e.id)) m.set(`${path}/${p}`, c);
  }
}

function remove(m: Map<Path, Entry>, path: Path): Map<Path, Entry> {
  const gone = new Map<Path, Entry>();
  for (const [p, e] of m)
    if (under(p, path)) {
      gone.set(p, e);
      m.delete(p);
    }
  return gone;
}

/**
 * Apply random edits to a copy of a flat tree; returns the new root. Moves are appended to
 * `journal` as done (from → to), as a journal would record them.
 */
export function mutate(
  reader: MemReader,
  root: Hash,
  muts: readonly Mutation[],
  journal?: { from: Path; to: Path }[],
): Hash {
  const m = reader.flatten(root);
  for (const mu of muts) {
    const paths = [...m.keys()].sort();
    const leaves = paths.filter((p) => m.get(p)!.kind !== 'dir');
    const dirs = ['', ...paths.filter((p) => m.get(p)!.kind === 'dir')];
    const pick = (list: readonly string[], i: number): string | undefined =>
      list.length === 0 ? undefined : list[i % list.length];
    switch (mu.op) {
      case 'edit': {
        const p = pick(
          leaves.filter((q) => m.get(q)!.kind === 'file'),
          mu.i,
        );
        if (p === undefined) break;
        const e = m.get(p)!;
        insert(reader, m, p, file(mu.content, { mode: e.mode, mtime: e.mtimeNs + 10n }));
        break;
      }
      case 'chmod': {
        const p = pick(paths, mu.i);
        if (p !== undefined) m.set(p, { ...m.get(p)!, mode: mu.mode });
        break;
      }
      case 'touch': {
        const p = pick(leaves, mu.i);
        if (p !== undefined) m.set(p, { ...m.get(p)!, mtimeNs: T0 + BigInt(mu.dt) * 1000n });
        break;
      }
      case 'xattr': {
        const p = pick(paths, mu.i);
        if (p !== undefined) {
          m.set(p, { ...m.get(p)!, xattrs: [['user.k', Buffer.from(mu.value)]] });
        }
        break;
      }
      case 'delete': {
        const p = pick(paths, mu.i);
        if (p !== undefined) remove(m, p);
        break;
      }
      case 'add': {
        const d = pick(dirs, mu.i)!;
        const p = d === '' ? mu.name : `${d}/${mu.name}`;
        if (!m.has(p)) insert(reader, m, p, mu.node);
        break;
      }
      case 'retype': {
        const p = pick(paths, mu.i);
        if (p === undefined) break;
        const e = m.get(p)!;
        remove(m, p);
        insert(reader, m, p, e.kind === 'dir' ? '1' : dir({ a: '2' }));
        break;
      }
      case 'move': {
        const p = pick(paths, mu.i);
        const d = pick(dirs, mu.j)!;
        if (p === undefined || under(d, p)) break;
        const to = d === '' ? mu.name : `${d}/${mu.name}`;
        if (m.has(to) || !(parentOf(to) === '' || m.get(parentOf(to))?.kind === 'dir')) break;
        const name = to.slice(to.lastIndexOf('/') + 1);
        for (const [q, e] of remove(m, p)) {
          m.set(to + q.slice(p.length), q === p ? { ...e, name } : e);
        }
        journal?.push({ from: p, to });
        break;
      }
    }
  }
  return reader.fromFlat(m);
}

// Hard links in a plan (MERGE.md rule H). A link group is a shape of one side, not a field the
// merge decides: each name of a group is merged on its own, by the rules every file follows.
// What this pass adds is how a file is made: a put of a name that the source side has in one
// group with another name (entry.ts `link`) becomes a link to that other name on the target
// side, wherever the target holds the same bytes there, now or by an earlier action of the
// same plan. Otherwise the put copies, as before, and the group splits there: no link is
// ever made over different bytes.
//
// A side that cannot show its groups (sshfs: no inode numbers, every file one link) sends
// puts without keys. There, the target's own group is kept where the plan puts every name of
// it from one file: same stamp on the source, both put by this plan. Equal stamps are not
// equal bytes, so such a link is marked `verify`: apply compares the bytes before linking and
// copies where they differ.
//
// Pure: trees in, actions out. A member of a group is found by walking the source side's tree
// once, and only when the plan puts a file that has a key.
import {
  joinPath,
  lookupSkimmed,
  type ByteString,
  type Entry,
  type Hash,
  type TreeReader,
} from '../tree/index.js';
import type { Action, LinkTo, Path, Side } from './plan.js';
import { closeMtimes } from './diff.js';

/** The trees the plan's actions were decided from (after renames). */
export interface LinkTrees {
  readonly reader: TreeReader;
  readonly base: Hash;
  readonly local: Hash;
  readonly server: Hash;
}

/** Which sides show their hard-link groups (a side that does not sends no keys). */
export type LinksSeen = Readonly<Record<Side, boolean>>;

type Put = Extract<Action, { op: 'put' }>;

const verify = true;

/**
 * Whether two names of one side show one file: the same id where both are known, else the
 * same size and mtime (within the replicas' time granularity: a name read from the view and
 * one base keeps may differ below a microsecond).
 */
function sameFile(a: Entry, b: Entry): boolean {
  if (a.size !== b.size) return false;
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  return closeMtimes(a.mtimeNs, b.mtimeNs);
}

/** Every member of each group in `keys`, in `root`'s tree (one walk). */
function membersOf(
  reader: TreeReader,
  root: Hash,
  keys: ReadonlySet<ByteString>,
): Map<ByteString, Path[]> {
  const out = new Map<ByteString, Path[]>();
  const walk = (id: Hash, dir: Path): void => {
    for (const e of reader.readTree(id)) {
      const p = joinPath(dir, e.name);
      if (e.kind === 'dir' && e.id !== undefined) walk(e.id, p);
      else if (e.kind === 'file' && e.link !== undefined && keys.has(e.link)) {
        const list = out.get(e.link);
        if (list === undefined) out.set(e.link, [p]);
        else list.push(p);
      }
    }
  };
  walk(root, '');
  return out;
}

/**
 * Whether `x` (the target's file) and `y` (the source's) hold the same bytes, as far as the
 * trees know: equal content ids; or one known only by its stamp, which is base's stamp, and
 * base's id is the other's. Where the trees cannot tell (a stamp that is not base's, or base
 * has no id), 'unknown': apply compares the bytes.
 */
function sameBytes(x: Entry, y: Entry, b: Entry | undefined): 'same' | 'different' | 'unknown' {
  if (x.kind !== 'file' || y.kind !== 'file' || x.size !== y.size) return 'different';
  if (x.id !== undefined && y.id !== undefined) return x.id === y.id ? 'same' : 'different';
  const known = x.id ?? y.id;
  const stampOnly = x.id === undefined ? x : y;
  if (known === undefined || b?.kind !== 'file' || b.id === undefined) return 'unknown';
  if (stampOnly.size !== b.size || !closeMtimes(stampOnly.mtimeNs, b.mtimeNs)) return 'unknown';
  return known === b.id ? 'same' : 'different';
}

/**
 * The plan's actions, with each put that can be a link made one (`link` set). Action order and
 * indexes are kept: a link's anchor is always an earlier action or a name no action touches.
 */
export function linkPuts(
  actions: readonly Action[],
  trees: LinkTrees,
  seen: LinksSeen = { local: true, server: true },
): Action[] {
  const treeOf = (s: Side): Hash => (s === 'local' ? trees.local : trees.server);
  const at = (tree: Hash, p: Path): Entry | undefined => lookupSkimmed(trees.reader, tree, p);
  // The source's key of each put file (a put's entry may be merged field by field from base).
  const keyOf = new Map<number, { src: Entry; key: ByteString }>();
  const keyed = new Map<Side, Set<ByteString>>();
  actions.forEach((a, i) => {
    if (a.op !== 'put' || a.entry.kind !== 'file') return;
    const src = at(treeOf(a.from), a.fromPath);
    const key = src?.link;
    if (src === undefined || key === undefined) return;
    keyOf.set(i, { src, key });
    let s = keyed.get(a.from);
    if (s === undefined) keyed.set(a.from, (s = new Set()));
    s.add(key);
  });
  const unseen = (['local', 'server'] as const).some((s) => !seen[s]);
  if (keyed.size === 0 && !unseen) return [...actions];

  const members = new Map<Side, Map<ByteString, Path[]>>();
  for (const [side, keys] of keyed) members.set(side, membersOf(trees.reader, treeOf(side), keys));
  // Paths each side's actions touch, by the index of the first action there.
  const firstAt = new Map<string, number>();
  actions.forEach((a, i) => {
    for (const p of a.op === 'rename' ? [a.path, a.to] : [a.path]) {
      const k = `${a.side}\0${p}`;
      if (!firstAt.has(k)) firstAt.set(k, i);
    }
  });
  const untouched = (side: Side, p: Path): boolean => !firstAt.has(`${side}\0${p}`);

  // Names already made on the target in this plan, by (target, source, group key), each with
  // the source's entry it was made from.
  const anchors = new Map<string, { link: LinkTo; src: Entry }[]>();
  const anchorOf = (k: string, src: Entry): LinkTo | undefined =>
    anchors.get(k)?.find((x) => sameFile(x.src, src))?.link;
  const anchor = (k: string, src: Entry, link: LinkTo): void => {
    const list = anchors.get(k);
    if (list === undefined) anchors.set(k, [{ link, src }]);
    else list.push({ link, src });
  };
  const out: Action[] = [];
  actions.forEach((a, i) => {
    if (a.op !== 'put' || a.entry.kind !== 'file') {
      out.push(a);
      return;
    }
    const k = keyOf.get(i);
    const link =
      k !== undefined
        ? bySourceGroup(a, k.src, k.key)
        : !seen[a.from]
          ? byTargetGroup(a)
          : undefined;
    out.push(link === undefined ? a : { ...a, link });
  });
  return out;

  function bySourceGroup(a: Put, src: Entry, key: ByteString): LinkTo | undefined {
    // One file on the source shows one stamp under each name; a key that outlived its link
    // (a stale record) does not make two files one: another stamp is another file.
    const k = `${a.side}\0${a.from}\0${key}`;
    const made = anchorOf(k, src);
    if (made !== undefined) return made;
    const target = treeOf(a.side);
    for (const m of members.get(a.from)?.get(key) ?? []) {
      if (m === a.path || !untouched(a.side, m)) continue;
      const x = at(target, m);
      const y = at(treeOf(a.from), m);
      if (x === undefined || y === undefined || !sameFile(y, src)) continue;
      const same = sameBytes(x, y, at(trees.base, m));
      if (same === 'different') continue;
      const check = src.id === undefined || same === 'unknown';
      const found: LinkTo = { to: m, expect: x, ...(check ? { verify } : {}) };
      anchor(k, src, found);
      return found;
    }
    // The group's first name on the target: the later ones link to it once it is there.
    anchor(k, src, { to: a.path, expect: a.entry });
    return undefined;
  }

  function byTargetGroup(a: Put): LinkTo | undefined {
    const x = at(treeOf(a.side), a.path);
    if (x?.kind !== 'file' || x.link === undefined) return undefined;
    // Only names put from what looks like one file on the source.
    const k = `${a.side}\0=${x.link}`;
    const made = anchorOf(k, a.entry);
    if (made !== undefined) return a.entry.id === undefined ? { ...made, verify } : made;
    anchor(k, a.entry, { to: a.path, expect: a.entry });
    return undefined;
  }
}

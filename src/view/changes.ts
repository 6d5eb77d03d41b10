// What changed between two roots of a view, as far as a kernel that cached some of the old one
// can tell (DESIGN decision 18): of the paths it holds nodes for, those whose attributes,
// content or link target differ (or that are gone), and in the directories among them, every
// name added or removed (an added name may be cached as absent). The mount invalidates exactly
// these; everything else it cached is still true. Only what the kernel holds is compared, so
// the cost follows what was looked at, not the size of the trees.
import type { VolumeMount } from '../fuse/mount.js';
import type { Path } from '../merge/plan.js';
import { joinPath } from '../tree/index.js';
import { statOf, type ViewNode, type ViewSource } from './node.js';

const json = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? String(v) : v);

/** Everything the kernel learns of a node at `path`, as one comparable string. */
function seenOf(n: ViewNode | undefined, path: Path): string | undefined {
  if (n === undefined) return undefined;
  const { entry, content } = n;
  return JSON.stringify(
    [statOf(n, `/${path}`), entry.id, entry.target, entry.xattrs, content],
    json,
  );
}

export async function changedPaths(
  was: ViewSource,
  now: ViewSource,
  cached: Iterable<Path>,
): Promise<Path[]> {
  if (was.live === true || now.live === true) return [...cached];
  const out = new Set<Path>();
  for (const path of cached) {
    const [a, b] = await Promise.all([was.lookup(path), now.lookup(path)]);
    if (seenOf(a, path) !== seenOf(b, path)) out.add(path);
    if (a?.entry.kind !== 'dir' && b?.entry.kind !== 'dir') continue;
    const [before, after] = await Promise.all([was.list(path), now.list(path)]);
    const had = new Set(before ?? []);
    const has = new Set(after ?? []);
    for (const name of has) if (!had.has(name)) out.add(joinPath(path, name));
    for (const name of had) if (!has.has(name)) out.add(joinPath(path, name));
  }
  return [...out];
}

/**
 * Tell the kernel of a mount showing `was` at `under` ('' its root) what changed now that it
 * shows `now` there; answers how many paths were invalidated.
 */
export async function invalidateChanged(
  m: Pick<VolumeMount, 'cached' | 'invalidate'>,
  was: ViewSource,
  now: ViewSource,
  under: Path = '',
): Promise<number> {
  const inside = (p: Path): Path | undefined =>
    under === '' || p === under
      ? p.slice(under.length)
      : p.startsWith(`${under}/`)
        ? p.slice(under.length + 1)
        : undefined;
  const cached = m.cached().flatMap((p) => inside(p) ?? []);
  const paths = await changedPaths(was, now, cached);
  for (const p of paths) m.invalidate(p === '' ? under : joinPath(under, p));
  return paths.length;
}

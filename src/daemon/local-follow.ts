// Keeping a local-variant view coherent while the kernel caches it for long: the volume's
// daemon numbers every path of its local view that changes (volume/local-journal.ts); a view
// asks every FOLLOW_MS what changed since it last asked and invalidates exactly those paths
// (and, for a conflicted path's variant, the canonical path that shows it). The volume's own
// `.tether/variants/local` reads the journal in its process; a view mounted on its own asks
// the volume's daemon over its control socket.
import type { Path } from '../merge/plan.js';
import { ConflictStore } from '../sync/conflict-store.js';
import type { Store } from '../store/store.js';
import { joinPath } from '../tree/index.js';
import { request, type Request } from '../volume/control.js';
import { isUnder } from '../volume/changed-paths.js';
import { LocalFollower, type LocalChanges, type LocalJournal } from '../volume/local-journal.js';

/** What a mount offers to be kept coherent. */
export interface Invalidating {
  invalidate(path: Path): void;
  cached(): Path[];
}

/** The control request a view sends, and the volume daemon's answer to it. */
export const LOCAL_CHANGES_OP = 'local-changes';

export function answerLocalChanges(
  journal: LocalJournal,
  req: Request,
): Record<string, unknown> | undefined {
  if (req.op !== LOCAL_CHANGES_OP) return undefined;
  const epoch = typeof req['epoch'] === 'string' ? req['epoch'] : undefined;
  const seq = typeof req['seq'] === 'number' ? req['seq'] : 0;
  return { ...journal.since(epoch, seq) };
}

/**
 * A follower invalidating, in mount `m`, the view paths under `under` ('' the mount's root)
 * that show a changed local-view path: the path itself, and where a conflict's variant
 * changed, its canonical path (the local variant shows the variant there).
 */
export function localFollower(store: Store, m: () => Invalidating | undefined, under: Path) {
  const at = (p: Path): Path => (under === '' ? p : p === '' ? under : joinPath(under, p));
  return new LocalFollower(
    (paths) => {
      const mount = m();
      if (mount === undefined) return;
      const variants = new ConflictStore(store.db('conflicts'))
        .list()
        .flatMap((c) => (c.variantPath === undefined ? [] : [[c.variantPath, c.path] as const]));
      for (const path of paths) {
        mount.invalidate(at(path));
        for (const [variant, canonical] of variants) {
          if (isUnder(path, variant)) mount.invalidate(at(canonical + path.slice(variant.length)));
        }
      }
    },
    () => {
      const mount = m();
      if (mount === undefined) return;
      for (const p of mount.cached()) if (isUnder(p, under)) mount.invalidate(p);
    },
  );
}

/** One look at the volume daemon of `storeDir`: what changed is invalidated (all if it cannot tell). */
export async function askLocalChanges(
  storeDir: string,
  f: LocalFollower,
  timeoutMs = 2000,
): Promise<number> {
  let c: LocalChanges;
  try {
    c = (await request(
      storeDir,
      { op: LOCAL_CHANGES_OP, ...f.cursor },
      timeoutMs,
    )) as unknown as LocalChanges;
  } catch {
    // No daemon to ask (the volume is being unmounted, or restarted): nothing cached is vouched for.
    return f.apply({ epoch: '', seq: 0, paths: 'all' });
  }
  return f.apply(c);
}

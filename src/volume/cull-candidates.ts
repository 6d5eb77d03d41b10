// The candidates of a cull: every cached file of the local view, with why it must stay where
// it must (pinned, in a conflict, dirty, linked, just used, not yet verified), and what
// evicting it would free. cull-plan.ts chooses among them; culler.ts evicts.
import type { Path } from '../merge/plan.js';
import { closeMtime } from '../scan/stamp.js';
import type { ChangedPaths } from './changed-paths.js';
import type { CachedFile, KeepReason } from './cull-plan.js';
import type { WalkedFile } from './cache-walk.js';
import type { UseTimes } from './use-times.js';
import type { Volume } from './volume.js';

/** A file opened this recently is not evicted: its open may be between the fetch check and the open itself. */
export const RECENT_MS = 1000;
export type Candidate = CachedFile & {
  readonly st: WalkedFile['st'];
  readonly verify: boolean;
  /** A placeholder's fetched ranges (given back by punching them out), not a cached file. */
  readonly ranges?: true;
};

/** Every cached file of `walked`, with why it must stay where it must. */
export function cullCandidates(
  v: Volume,
  walked: readonly WalkedFile[],
  isPinned: (path: Path) => boolean,
  changed: ChangedPaths,
  uses: UseTimes,
): Candidate[] {
  const conflicted = new Set(
    v.conflicts
      .list()
      .flatMap((c) => (c.variantPath === undefined ? [c.path] : [c.path, c.variantPath])),
  );
  const noted = new Set(changed.list());
  const now = Date.now();
  return walked.flatMap((f): Candidate[] => {
    const lastUse = uses.lastUse(f.path);
    if (v.placeholders.is(f.path, f.st.ino)) {
      // A placeholder's fetched ranges (a fetch cut short, a file read range by range): the
      // server's bytes, clean; given back whole unless pinned or just used.
      if (f.bytes === 0 || v.ranges.of(f.path, f.st.ino) === undefined) return [];
      const keep: KeepReason | undefined = isPinned(f.path)
        ? 'pinned'
        : now - lastUse < RECENT_MS
          ? 'recent'
          : undefined;
      const r = { path: f.path, frees: f.bytes, lastUse, st: f.st, verify: false };
      return [{ ...r, ranges: true, ...(keep === undefined ? {} : { keep }) }];
    }
    const b = v.baseEntry(f.path);
    let keep: KeepReason | undefined;
    if (isPinned(f.path)) keep = 'pinned';
    else if (conflicted.has(f.path)) keep = 'conflict';
    else if (b === undefined) keep = 'provisional';
    else if (
      b.kind !== 'file' ||
      b.size !== Number(f.st.size) ||
      !closeMtime(b.mtimeNs, f.st.mtimeNs) ||
      b.mode !== (Number(f.st.mode) & 0o7777)
    )
      keep = 'dirty';
    else if (f.st.nlink > 1n) keep = 'linked';
    else if (now - lastUse < RECENT_MS) keep = 'recent';
    // Written through the mount since it last equalled base, and its stamp is no proof of
    // its bytes (a write may keep size and mtime): only base's id can clear it. A file just
    // fetched is such a file too until base learns its id, a moment later: it is kept, but
    // counted as passing (a fetch is not refused for it).
    const verify = noted.has(f.path) || !changed.complete;
    if (keep === undefined && verify && b?.id === undefined) {
      keep = v.learner.pending(f.path) ? 'unverified' : 'dirty';
    }
    // Its blob goes with it where base names one; a file kept for a moment while base learns
    // its id (just fetched) will free its blob as well, and a fetch is not refused for that.
    const blob = b?.id !== undefined || (keep !== undefined && v.learner.pending(f.path));
    const frees = f.bytes + (blob && b !== undefined ? b.size : 0);
    return [
      { path: f.path, frees, lastUse, st: f.st, verify, ...(keep === undefined ? {} : { keep }) },
    ];
  });
}

// A cull's eviction: the files of its plan still to go (not open, not just used, still base's
// content) renamed to placeholders, partial files' ranges given back, and what base no longer
// names freed; and, while it runs, which files were chosen and which are being renamed (an
// open withdraws the first and waits for the second).
import { readdir, readlink } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { fsPath, hashFile } from '../scan/fs-entry.js';
import { RECENT_MS, type Candidate } from './cull-candidates.js';
import { gcHere } from './daemon-gc.js';
import { evictToPlaceholders, type Claims } from './evict.js';
import { forgetIds } from './forget-ids.js';
import type { UseTimes } from './use-times.js';
import type { Volume } from './volume.js';

export /** Paths of the local view this process holds open (the mount's open files). */
async function openPaths(local: Buffer): Promise<Set<Path>> {
  const out = new Set<Path>();
  const prefix = Buffer.concat([local, Buffer.from('/')]);
  // Linux only, as tether is: without /proc nothing could be told open, so nothing is culled.
  const fds = await readdir('/proc/self/fd').catch(() => undefined);
  if (fds === undefined) throw new Error('cannot list /proc/self/fd: no cull without it');
  for (const fd of fds) {
    const to = await readlink(`/proc/self/fd/${fd}`, { encoding: 'buffer' }).catch(() => null);
    if (to?.subarray(0, prefix.length).equals(prefix) === true) {
      out.add(to.subarray(prefix.length).toString('latin1'));
    }
  }
  return out;
}

/** Files of the eviction under way: chosen, or being renamed (with its end). */
export class Evicting {
  private readonly files = new Map<Path, 'chosen' | { done: Promise<void>; end: () => void }>();

  /** These files are to be evicted (until claimed, an open withdraws them). */
  choose(paths: readonly Path[]): void {
    for (const path of paths) this.files.set(path, 'chosen');
  }

  /** The eviction of these files is over (done or not). */
  drop(paths: readonly Path[]): void {
    for (const path of paths) this.files.delete(path);
  }

  /** `path` is being opened: a chosen file stays; one being renamed is waited for. */
  async withdraw(path: Path): Promise<void> {
    const e = this.files.get(path);
    if (e === 'chosen') this.files.delete(path);
    else if (e !== undefined) await e.done;
  }

  /** Right before each rename: a file still chosen is claimed (an open then waits for it). */
  readonly claims: Claims = {
    claim: (path) => {
      if (this.files.get(path) !== 'chosen') return false;
      let end!: () => void;
      const done = new Promise<void>((r) => (end = r));
      this.files.set(path, { done, end });
      return true;
    },
    release: (path) => {
      const e = this.files.get(path);
      this.files.delete(path);
      if (e !== undefined && e !== 'chosen') e.end();
    },
  };

  /**
   * Evict the plan's files (between syncs), then free what base no longer names. `busy`: files
   * left because they were open, or opened since the plan, at the time.
   */
  async evict(
    v: Volume,
    planned: readonly Candidate[],
    uses: UseTimes,
    gcTook: (ms: number) => void,
  ): Promise<{ evicted: number; busy: number; busyBytes: number }> {
    let busy = 0;
    let busyBytes = 0;
    const local = Buffer.from(v.local);
    const evicted = await v.between(async () => {
      const open = await openPaths(local);
      const chosen: Candidate[] = [];
      const ranged: Candidate[] = [];
      for (const f of planned) {
        if (open.has(f.path) || Date.now() - uses.lastUse(f.path) < RECENT_MS) {
          busy++;
          busyBytes += f.frees;
          continue;
        }
        if (f.ranges === true) {
          ranged.push(f);
          continue;
        }
        const b = v.baseEntry(f.path);
        if (b?.kind !== 'file') continue;
        if (f.verify) {
          const id = await hashFile(fsPath(local, f.path)).catch(() => undefined);
          if (id === undefined || id !== b.id) continue;
        }
        chosen.push(f);
      }
      this.choose([...chosen, ...ranged].map((f) => f.path));
      const claims = this.claims;
      const gaveBack = await this.giveBackRanges(v, ranged, claims).finally(() => {
        this.drop(ranged.map((f) => f.path));
      });
      const done = await evictToPlaceholders(
        local,
        chosen.map((f) => ({ path: f.path, was: f.st })),
        v.placeholders,
        claims,
      ).finally(() => {
        this.drop(chosen.map((f) => f.path));
      });
      const forget = done.flatMap((path) => {
        const id = v.baseEntry(path)?.id;
        return id === undefined ? [] : [{ path, id }];
      });
      await forgetIds(v.store, forget);
      // In the same turn: a sync in between would take the ids back from the scan caches
      // (which vouch for a stamp's id), and the gc drops those caches as it frees.
      const g0 = performance.now();
      if (done.length > 0) await gcHere(v, false);
      gcTook(performance.now() - g0);
      v.viewChanged(done);
      return done.length + gaveBack;
    });
    return { evicted, busy, busyBytes };
  }

  /**
   * Give back every range of each partial file in `files` that is still the one planned from
   * and not being fetched into (claimed as an eviction is); answers how many were.
   */
  private async giveBackRanges(
    v: Volume,
    files: readonly Candidate[],
    claims: Claims,
  ): Promise<number> {
    let n = 0;
    for (const f of files) {
      const map = v.ranges.of(f.path, f.st.ino);
      if (map === undefined || !claims.claim(f.path)) continue;
      try {
        const end = Math.max(Number(f.st.size), map.size);
        if (await v.dropRange(f.path, f.st.ino, 0, end, true)) n++;
      } finally {
        claims.release(f.path);
      }
    }
    return n;
  }
}

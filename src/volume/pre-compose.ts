// While a volume is offline, the view's tree is composed in the background shortly after the
// writes pause (local-tree.ts, as a snapshot composes it, between syncs and fetches): the
// changed files are then read, hashed and stored while the user is not waiting, and going
// online composes again only from their stat (changed-paths.ts's stat cache, with its
// racy-clean guard: a file changed since, or too soon before it was read, is read again).
// Only a trusted changed-path list is composed this way: after a crash the whole view is
// scanned once, at the next sync or snapshot, never behind the user's back.
import type { ChangedPaths } from './changed-paths.js';
import { localTree } from './local-tree.js';
import type { Volume } from './volume.js';

/** How long the writes must pause before the background compose (ms). */
export const PAUSE_MS = 200;

export class PreCompose {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly v: Volume,
    private readonly changed: ChangedPaths,
    private readonly log: (line: string) => void,
    private readonly pauseMs = PAUSE_MS,
  ) {}

  /** A path was noted: compose once the notes pause (only while offline). */
  noted(): void {
    if (this.stopped || this.v.mode !== 'offline') return;
    if (this.timer !== undefined) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.pauseMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    try {
      await this.v.between(async () => {
        if (this.stopped || this.v.mode !== 'offline' || !this.changed.complete) return;
        const t = await localTree(this.v, this.changed);
        if (t.hashedFiles > 0) {
          const n = t.hashedFiles;
          this.log(
            `composed the view in the background: ${String(n)} file${n === 1 ? '' : 's'} read`,
          );
        }
      });
    } catch (err) {
      // Only a head start: the sync composes (or scans) on its own.
      this.log(`background compose: ${(err as Error).message}`);
    }
  }
}

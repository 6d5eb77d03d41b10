// When an online volume syncs on its own: a flush a moment after the last change, and a pull
// every so often while nothing else syncs (like NFS's attribute cache). The volume says what a
// sync is (its background flush or pull) and whether one is under way.
import type { VolumeTimes } from './volume-types.js';

export class SyncTimers {
  private flushTimer: NodeJS.Timeout | undefined;
  private pullTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly times: VolumeTimes,
    /** Start a background flush or pull. */
    private readonly sync: () => void,
    /** Whether no sync is under way. */
    private readonly idle: () => boolean,
  ) {}

  /** Flush `flushDelayMs` after this call, unless another change comes first. */
  flushSoon(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.sync();
    }, this.times.flushDelayMs);
  }

  startPull(): void {
    if (this.pullTimer !== undefined) return;
    this.pullTimer = setInterval(() => {
      if (this.idle() && this.flushTimer === undefined) this.sync();
    }, this.times.pullEveryMs);
  }

  stop(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.pullTimer !== undefined) clearInterval(this.pullTimer);
    this.flushTimer = undefined;
    this.pullTimer = undefined;
  }
}

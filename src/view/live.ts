// A root that follows the volume: rebuilt when what it depends on changes (refs moved, a
// conflict recorded or resolved). Checked at most every `everyMs` when asked for, so a burst
// of requests costs one check. `changed` is told of each rebuild, old root and new: a mount
// whose kernel keeps what it learnt invalidates what differs (changes.ts).
import type { ViewSource } from './node.js';

/** How often a followed root is checked for a change of the volume (and what changed invalidated). */
export const FOLLOW_MS = 250;

export class LiveRoot {
  private source: ViewSource | undefined;
  private seen = '';
  private checkedAt = 0;

  constructor(
    private readonly build: () => ViewSource,
    private readonly fingerprint: () => string,
    private readonly everyMs = FOLLOW_MS,
    private readonly now: () => number = Date.now,
    private readonly changed: (was: ViewSource, now: ViewSource) => void = () => undefined,
  ) {}

  get(): ViewSource {
    const t = this.now();
    if (this.source !== undefined && t - this.checkedAt < this.everyMs) return this.source;
    this.checkedAt = t;
    const f = this.fingerprint();
    if (this.source === undefined || f !== this.seen) {
      const was = this.source;
      this.source = this.build();
      this.seen = f;
      if (was !== undefined) this.changed(was, this.source);
    }
    return this.source;
  }
}

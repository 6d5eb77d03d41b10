// A root that follows the volume: rebuilt when what it depends on changes (refs moved, a
// conflict recorded or resolved). Checked at most every `everyMs` when asked for, so a burst
// of requests costs one check, and nothing runs while no one looks.
import type { ViewSource } from './node.js';

export class LiveRoot {
  private source: ViewSource | undefined;
  private seen = '';
  private checkedAt = 0;

  constructor(
    private readonly build: () => ViewSource,
    private readonly fingerprint: () => string,
    private readonly everyMs = 250,
    private readonly now: () => number = Date.now,
  ) {}

  get(): ViewSource {
    const t = this.now();
    if (this.source !== undefined && t - this.checkedAt < this.everyMs) return this.source;
    this.checkedAt = t;
    const f = this.fingerprint();
    if (this.source === undefined || f !== this.seen) {
      this.source = this.build();
      this.seen = f;
    }
    return this.source;
  }
}

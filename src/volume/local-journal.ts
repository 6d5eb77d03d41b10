// The paths of the local view changed lately, numbered: every path noted through the mount
// (changed-paths.ts) and every path the volume changes underneath it (a pull, a fetch, a
// resolve: view-changes.ts). A view of the local variant (its own mount, or `.tether/variants/
// local` in the volume's) keeps what the kernel learnt for long, and every FOLLOW_MS asks what
// changed since the number it last saw: those paths are invalidated, nothing else. Kept in
// memory, the last KEPT paths; a reader further behind, or of another daemon (another epoch),
// is told to drop everything.
import { randomBytes } from 'node:crypto';
import type { Path } from '../merge/plan.js';

const KEPT = 10_000;

/** What changed since a reader's number: the paths, or `all` when they are not all known. */
export interface LocalChanges {
  readonly epoch: string;
  readonly seq: number;
  readonly paths: readonly Path[] | 'all';
}

export class LocalJournal {
  readonly epoch = randomBytes(8).toString('hex');
  private seq = 0;
  /** Kept in the order of their last change, the oldest first. */
  private readonly paths = new Map<Path, number>();
  /** The number of the latest change no longer kept. */
  private dropped = 0;

  get now(): number {
    return this.seq;
  }

  add(path: Path): void {
    this.paths.delete(path);
    this.paths.set(path, ++this.seq);
    if (this.paths.size > KEPT) {
      const [p, s] = this.paths.entries().next().value!;
      this.paths.delete(p);
      this.dropped = s;
    }
  }

  /** What changed after `seq` of `epoch`. */
  since(epoch: string | undefined, seq: number): LocalChanges {
    const now = { epoch: this.epoch, seq: this.seq };
    if (epoch !== this.epoch || seq > this.seq || seq < this.dropped) {
      return { ...now, paths: 'all' };
    }
    if (seq === this.seq) return { ...now, paths: [] };
    const out: Path[] = [];
    for (const [p, s] of this.paths) if (s > seq) out.push(p);
    return { ...now, paths: out };
  }
}

/**
 * A reader of a journal: `tick` with what changed since it last looked invalidates those
 * paths (through `invalidate`), or every cached path (`all`).
 */
export class LocalFollower {
  private epoch: string | undefined;
  private seq = 0;

  constructor(
    private readonly invalidate: (paths: readonly Path[]) => void,
    private readonly all: () => void,
  ) {}

  get cursor(): { epoch: string | undefined; seq: number } {
    return { epoch: this.epoch, seq: this.seq };
  }

  apply(c: LocalChanges): number {
    const first = this.epoch === undefined;
    this.epoch = c.epoch;
    this.seq = c.seq;
    // The first answer only sets the cursor: nothing was cached before the view started.
    if (first) return 0;
    if (c.paths === 'all') {
      this.all();
      return -1;
    }
    if (c.paths.length > 0) this.invalidate(c.paths);
    return c.paths.length;
  }
}

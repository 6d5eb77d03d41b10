// Base learns the content ids of fetched files (a later text merge needs base's bytes; MERGE.md
// rule P): each fetch asks, and the ids gathered meanwhile move base once, in the volume's
// one-writer-at-a-time chain, so a hoard of thousands of files moves base a few times, not once
// per file. An entry is updated only where base is still as it was when the file was fetched.
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { advanceBaseAt } from '../sync/binding.js';
import type { Entry } from '../tree/index.js';
import { closeMtime } from '../scan/stamp.js';
import type { ServerStamp } from './ranges.js';

export class BaseIdLearner {
  private readonly waiting = new Map<Path, { was: Entry; id: string }>();
  private next: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly baseEntry: (path: Path) => Entry | undefined,
    private readonly exclusive: (fn: () => Promise<void>) => Promise<void>,
  ) {}

  /**
   * `path` was fetched into `file` from the server file `got`: if that is base's version, its
   * content is kept in the store and base learns its id. Base moves one writer at a time, so
   * this waits its turn without holding up the open that fetched; a failure is only logged.
   */
  fetched(path: Path, file: Buffer, got: ServerStamp, log: (line: string) => void): void {
    const b = this.baseEntry(path);
    if (b?.kind !== 'file' || b.id !== undefined || b.size !== got.size) return;
    if (!closeMtime(b.mtimeNs, got.mtimeNs)) return;
    const learned = this.store.putBlobFile(file, got.size).then(({ id }) => this.soon(path, b, id));
    learned.catch((err: unknown) => {
      log(`base did not learn the content id of a fetched file: ${(err as Error).message}`);
    });
  }

  /** Give base's entry at `path` (as `was`) the id `id`; resolves once base moved. */
  soon(path: Path, was: Entry, id: string): Promise<void> {
    this.waiting.set(path, { was, id });
    this.next ??= this.exclusive(async () => {
      const batch = [...this.waiting];
      this.waiting.clear();
      this.next = undefined;
      const updates = batch.flatMap(([p, { was: w, id: i }]) => {
        const now = this.baseEntry(p);
        const same =
          now !== undefined &&
          now.id === undefined &&
          now.size === w.size &&
          now.mtimeNs === w.mtimeNs;
        return same ? [{ path: p, entry: { ...now, id: i } }] : [];
      });
      if (updates.length > 0) await advanceBaseAt(this.store, updates);
    });
    return this.next;
  }
}

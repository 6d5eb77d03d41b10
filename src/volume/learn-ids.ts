// Base learns the content ids of fetched files (a later text merge needs base's bytes; MERGE.md
// rule P): each fetch asks, and the ids gathered meanwhile move base once, in the volume's
// one-writer-at-a-time chain, so a hoard of thousands of files moves base a few times, not once
// per file. An entry is updated only where base is still as it was when the file was fetched.
//
// A fetched file's content is stored here, read back from the view, unless the fetch stored it
// already (a hoard's batch copies: the agent keeps each file's bytes as a blob as it copies
// them, batch-copy.ts, so they are read and hashed once) and knows its id.
//
// Between a fetched file's blob being stored and base naming it, nothing in the store refers to
// the blob: a gc in the daemon (daemon-gc.ts) pauses new stores (the agent's batches too),
// waits for those under way, and takes the ids not yet in base as roots.
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { advanceBaseAt } from '../sync/binding.js';
import type { Entry, Hash } from '../tree/index.js';
import { closeMtime } from '../scan/stamp.js';
import type { ServerStamp } from './ranges.js';

export class BaseIdLearner {
  private readonly waiting = new Map<Path, { was: Entry; id: string }>();
  /** Fetched files whose id base is still to learn (a count per path: fetches may overlap). */
  private readonly learning = new Map<Path, number>();
  /** Of those, the files whose content is still to be stored (a count per path). */
  private readonly unstored = new Map<Path, number>();
  /** The id stored for a fetched file, until base names it (or is found to have moved on). */
  private readonly stored = new Map<Path, Hash>();
  private next: Promise<void> | undefined;
  /** Ids stored for a fetched file that base does not name yet. */
  private readonly held = new Map<Hash, number>();
  private readonly storing = new Set<Promise<unknown>>();
  /** Every learning under way, to wait for (a hoard ends once what it fetched is in the store). */
  private readonly under = new Set<Promise<unknown>>();
  private gate: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly baseEntry: (path: Path) => Entry | undefined,
    private readonly exclusive: (fn: () => Promise<void>) => Promise<void>,
  ) {}

  /**
   * `path` was fetched into `file` from the server file `got`: if that is base's version, its
   * content is kept in the store and base learns its id. Base moves one writer at a time, so
   * this waits its turn without holding up the open that fetched; a failure is only logged.
   * `kept`: the id of the content, stored already and held (by `keeping`); let go here.
   */
  fetched(
    path: Path,
    file: Buffer,
    got: ServerStamp,
    log: (line: string) => void,
    kept?: Hash,
  ): void {
    const b = this.baseEntry(path);
    const base =
      b?.kind === 'file' &&
      b.id === undefined &&
      b.size === got.size &&
      closeMtime(b.mtimeNs, got.mtimeNs);
    if (!base) {
      if (kept !== undefined) this.release(kept);
      return;
    }
    count(this.learning, path, 1);
    if (kept === undefined) count(this.unstored, path, 1);
    const learned = this.learnFile(path, b, file, got.size, kept, () => {
      if (kept === undefined) count(this.unstored, path, -1);
    }).finally(() => {
      count(this.learning, path, -1);
    });
    const logged = learned.catch((err: unknown) => {
      log(`base did not learn the content id of a fetched file: ${(err as Error).message}`);
    });
    this.under.add(logged);
    void logged.finally(() => this.under.delete(logged));
  }

  /** Resolves once every fetch noted so far has its content stored and base has learned it (or failed). */
  async settled(): Promise<void> {
    while (this.under.size > 0) await Promise.all([...this.under]);
  }

  /** Whether base is still to learn the id of the file just fetched at `path`. */
  pending(path: Path): boolean {
    return this.learning.has(path);
  }

  /**
   * The fetched files whose content is still to be stored: a walk of the store does not count
   * it yet, though it will take its size there in a moment.
   */
  notYetStored(): Path[] {
    return [...this.unstored.keys()];
  }

  /** The id of the content stored for the file just fetched at `path` that base does not name yet. */
  storedId(path: Path): Hash | undefined {
    return this.stored.get(path);
  }

  /**
   * Store the fetched file at `file` as a blob (unless `kept`: stored already, held), then give
   * base's entry at `path` its id. `stored`: called once the content is in the store (or
   * storing it failed).
   */
  async learnFile(
    path: Path,
    was: Entry,
    file: Buffer,
    size: number,
    kept: Hash | undefined,
    stored: () => void,
  ): Promise<Hash> {
    let id: Hash;
    if (kept !== undefined) id = kept;
    else {
      const put = this.keeping(
        () => this.store.putBlobFile(file, size),
        (r) => [r.id],
      );
      void put.then(stored, stored);
      id = (await put).id;
    }
    this.stored.set(path, id);
    try {
      await this.soon(path, was, id);
    } finally {
      if (this.stored.get(path) === id) this.stored.delete(path);
      this.release(id);
    }
    return id;
  }

  /**
   * Run `store`, which stores blobs, never while a gc runs (a gc waits for it); each id its
   * answer holds (`ids`) is held, a root for a gc, until `release`d: base names it by then.
   */
  async keeping<T>(store: () => Promise<T>, ids: (answer: T) => readonly Hash[]): Promise<T> {
    while (this.gate !== undefined) await this.gate;
    const stored = store().then((answer) => {
      for (const id of ids(answer)) this.held.set(id, (this.held.get(id) ?? 0) + 1);
      return answer;
    });
    this.storing.add(stored);
    try {
      return await stored;
    } finally {
      this.storing.delete(stored);
    }
  }

  /** One hold of `id` (keeping) let go. */
  release(id: Hash): void {
    const n = (this.held.get(id) ?? 1) - 1;
    if (n > 0) this.held.set(id, n);
    else this.held.delete(id);
  }

  /**
   * Run `fn` with no blob being stored for a fetch, and the ids stored but not yet in base
   * given to it (roots a gc must keep).
   */
  async whilePaused<T>(fn: (held: readonly Hash[]) => Promise<T>): Promise<T> {
    while (this.gate !== undefined) await this.gate;
    let resume!: () => void;
    this.gate = new Promise<void>((r) => (resume = r));
    try {
      await Promise.allSettled([...this.storing]);
      return await fn([...this.held.keys()]);
    } finally {
      this.gate = undefined;
      resume();
    }
  }

  /** Give base's entry at `path` (as `was`) the id `id`; resolves once base moved. */
  soon(path: Path, was: Entry, id: string): Promise<void> {
    this.waiting.set(path, { was, id });
    // A fetch moves base at once (a cull may not give back a file until base has its id, and
    // one deciding while a move is held back keeps the file as unverified and squeezes
    // another); fetches that finish while a move waits its turn (a hoard's batch copies)
    // share it.
    this.next ??= this.moveBase();
    return this.next;
  }

  /** Base moved once for every id waiting (in the volume's one-writer-at-a-time chain). */
  private moveBase(): Promise<void> {
    return this.exclusive(async () => {
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
  }
}

/** Add `by` to `path`'s count in `counts`, dropping the path at zero. */
function count(counts: Map<Path, number>, path: Path, by: number): void {
  const n = (counts.get(path) ?? 0) + by;
  if (n > 0) counts.set(path, n);
  else counts.delete(path);
}

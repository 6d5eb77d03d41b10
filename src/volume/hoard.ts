// Hoarding (DESIGN decision 11): fetch every file of the pinned set that is not cached yet,
// through the volume's ordinary fetch (so through the remote agent, with its deadlines): large
// files PARALLEL at a time (each fetched by ranges), small ones SMALL_PARALLEL at a time, which
// the agent copies many per request (whole-batches.ts), so their round trips, messages and
// fsyncs are shared. Resumable by nature: a fetched file is no longer a placeholder, so a
// hoard interrupted (offline, unmount) simply has less to do the next time.
import { lstatSync } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import { covers, type Pin, type Pins } from './pins.js';
import type { Volume } from './volume.js';
import { FILES, IN_FLIGHT } from './whole-batches.js';

export const PARALLEL = 16;
/** Small files (one range at most) fetched at once: FILES × IN_FLIGHT of whole-batches.ts. */
export const SMALL_PARALLEL = FILES * IN_FLIGHT;

export interface HoardStatus {
  readonly running: boolean;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly bytes: number;
  readonly lastError?: string;
  /** Why the hoard stopped before its end (the cache, or pinned content, is at its limit). */
  readonly stopped?: string;
}

export class Hoarder {
  private current: Promise<void> | undefined;
  private state: HoardStatus = { running: false, total: 0, done: 0, failed: 0, bytes: 0 };

  constructor(
    private readonly volume: Volume,
    private readonly pins: Pins,
    private readonly onEvent: (type: string, data: Record<string, unknown>) => void,
  ) {}

  status(): HoardStatus {
    return this.state;
  }

  /** Start a hoard of `paths` (each taken as a recursive pin), or of every pin; one at a time. */
  start(paths?: readonly Path[]): HoardStatus {
    if (this.current !== undefined) return this.state;
    const pins: Pin[] =
      paths === undefined || paths.length === 0
        ? this.pins.list()
        : paths.map((path) => ({ path, recursive: true, priority: 0 }));
    const targets = this.targets(pins);
    this.state = { running: true, total: targets.length, done: 0, failed: 0, bytes: 0 };
    this.current = this.profiled(targets).finally(() => {
      this.current = undefined;
      this.state = { ...this.state, running: false };
      this.onEvent('hoard-finish', {
        total: this.state.total,
        fetched: this.state.done - this.state.failed,
        failed: this.state.failed,
        ...(this.state.stopped === undefined ? {} : { stopped: this.state.stopped }),
      });
    });
    return this.state;
  }

  /** Waits for a running hoard (closing). */
  async settled(): Promise<void> {
    await this.current;
  }

  private targets(pins: readonly Pin[]): Path[] {
    const seen = new Set<Path>();
    for (const pin of pins) {
      for (const p of this.volume.placeholders.under(pin.path)) {
        if (covers(pin, p)) seen.add(p);
      }
    }
    return [...seen];
  }

  /** The hoard, with TETHER_PROFILE_HOARD=DIR a CPU profile of it written there (profile.ts). */
  private async profiled(targets: readonly Path[]): Promise<void> {
    const dir = process.env['TETHER_PROFILE_HOARD'];
    if (dir === undefined || dir === '') return this.run(targets);
    const { profiled } = await import('../agent/profile.js');
    return profiled(dir, () => this.run(targets), 'hoard');
  }

  private async run(targets: readonly Path[]): Promise<void> {
    const small: Path[] = [];
    const large: Path[] = [];
    for (const p of targets) {
      // By base's size at the path (a moved placeholder's origin may differ: only the lane is
      // chosen by it, the fetch itself is the same).
      const size = this.volume.baseEntry(p)?.size;
      (size !== undefined && size <= this.volume.rangeChunk ? small : large).push(p);
    }
    await Promise.all([this.lane(small, SMALL_PARALLEL), this.lane(large, PARALLEL)]);
    // Done means the content is in the store too: base knows its id (a later merge needs those
    // bytes), and the cache's count includes its blobs.
    await this.volume.learner.settled();
  }

  /** Fetch `paths`, `parallel` at a time, until done, offline, or stopped for room. */
  private async lane(paths: readonly Path[], parallel: number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (
        next < paths.length &&
        this.volume.mode === 'online' &&
        this.state.stopped === undefined
      ) {
        const path = paths[next++]!;
        try {
          await this.volume.fetch(path, 'hoard');
          const bytes = this.state.bytes + this.sizeNow(path);
          this.state = { ...this.state, done: this.state.done + 1, bytes };
        } catch (err) {
          // No room: every further file would be refused too, so the hoard ends here.
          if ((err as { record?: { name?: unknown } }).record?.name === 'EDISCONFULL') {
            this.state = { ...this.state, stopped: (err as Error).message };
            return;
          }
          this.state = {
            ...this.state,
            done: this.state.done + 1,
            failed: this.state.failed + 1,
            lastError: (err as Error).message,
          };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, paths.length) }, worker));
  }

  /**
   * The size of `path` in the local view now (just fetched; 0 if it is gone already). Read
   * from the view, not the fetch: one fetch's batch brings in the files other workers ask for.
   */
  private sizeNow(path: Path): number {
    this.localBuf ??= Buffer.from(this.volume.local);
    try {
      return lstatSync(fsPath(this.localBuf, path), { throwIfNoEntry: false })?.size ?? 0;
    } catch {
      return 0; // too long a path for one call, say: not counted
    }
  }

  private localBuf: Buffer | undefined;
}

// The daemon's side of copying small files in batches (batch-copy.ts): each fetch asks for its
// file as it would alone (RangeSource.whole), and the requests waiting meanwhile go to the
// agent together, up to FILES a request, at most IN_FLIGHT requests at once. The first
// requests leave at once (small batches); while they run the queue grows, so a hoard of
// thousands of files settles into full batches, and a lone open is never held back to wait
// for company. Each file's result comes back to its own fetch: a file the server failed fails
// that fetch alone (its fault then judged as any failed fetch's: remote-fault.ts), and a
// request cut (a deadline missed, the agent gone) fails every fetch it carried.
import { AgentCallError } from '../agent/client.js';
import { isTransportCode } from '../agent/protocol.js';
import type { Path } from '../merge/plan.js';
import type { BatchFile, BatchResult } from './batch-copy.js';
import type { Whole } from './partial-fetch.js';

export const FILES = 32;
export const IN_FLIGHT = 4;

interface Waiting {
  readonly file: BatchFile;
  readonly resolve: (w: Whole) => void;
  readonly reject: (err: Error) => void;
}

export class WholeBatches {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    /** One request to the agent: a result per file, in order. */
    private readonly send: (files: readonly BatchFile[]) => Promise<BatchResult[]>,
    private readonly files = FILES,
    private readonly inFlight = IN_FLIGHT,
  ) {}

  /** The file at `from` copied over the placeholder `path`, if it has at most `max` bytes. */
  whole(path: Path, max: number, from: Path = path): Promise<Whole> {
    return new Promise<Whole>((resolve, reject) => {
      this.queue.push({ file: { path, from, max }, resolve, reject });
      // Fetches that reach here in the same turn leave together.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.running < this.inFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.files);
      this.running++;
      this.send(batch.map((w) => w.file))
        .then(
          (results) => {
            batch.forEach((w, i) => {
              const r = results[i];
              if (r === undefined)
                w.reject(
                  new AgentCallError(
                    'EIO',
                    'copyBatch: the agent answered nothing for it',
                    true,
                    true,
                  ),
                );
              else if ('stamp' in r) w.resolve(r);
              else w.reject(new AgentCallError(r.code, r.message, isTransportCode(r.code)));
            });
          },
          (err: unknown) => {
            const e = err instanceof Error ? err : new Error(String(err));
            for (const w of batch) w.reject(e);
          },
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}

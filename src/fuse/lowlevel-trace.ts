// A request trace for the low-level binding (TETHER_FUSE_TRACE=1): how many requests of each
// kind reached JavaScript, and how long each took from its arrival to its answer, written to
// the daemon's log when the session ends. Requests the session thread answers itself (direct
// reads and writes, flush, opendir) never reach it. Off, it costs one branch per request.
import { OP } from './lowlevel-addon.js';

export const TRACE_ENV = 'TETHER_FUSE_TRACE';

const NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

export class RequestTrace {
  private readonly count = new Map<number, number>();
  private readonly ns = new Map<number, bigint>();

  static fromEnv(): RequestTrace | undefined {
    return process.env[TRACE_ENV] === '1' ? new RequestTrace() : undefined;
  }

  /** A request of kind `op` arrived; the function returned is called once it is answered. */
  start(op: number): () => void {
    const t0 = process.hrtime.bigint();
    this.count.set(op, (this.count.get(op) ?? 0) + 1);
    return () => {
      this.ns.set(op, (this.ns.get(op) ?? 0n) + process.hrtime.bigint() - t0);
    };
  }

  /** One line per kind: count, mean µs from arrival to answer. */
  report(): string {
    const rows = [...this.count].sort((a, b) => b[1] - a[1]);
    return rows
      .map(([op, n]) => {
        const us = Number(this.ns.get(op) ?? 0n) / 1e3 / n;
        return `${NAMES.get(op) ?? String(op)} ${String(n)} ${us.toFixed(1)}µs`;
      })
      .join(', ');
  }
}

// A request trace for the low-level binding (TETHER_FUSE_TRACE=1): how many requests of each
// kind reached JavaScript, and how long each took from its arrival to its answer, written to
// the daemon's log when the session ends; and how many of each kind the kernel sent, those
// the session thread answered itself (direct reads and writes, opendir…) among them, counted
// natively. Off, it costs one branch per request.
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

  /** The kernel's requests by kind (kernelCounts), those it sent: "opendir 1, getattr 3". */
  static kernelReport(counts: Float64Array): string {
    return [...counts]
      .map((n, op) => [NAMES.get(op) ?? String(op), n] as const)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${name} ${String(n)}`)
      .join(', ');
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

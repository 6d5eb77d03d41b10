// The messages between a volume's daemon and its remote agent (a child process, DESIGN
// decision 2), carried over Node's IPC channel with structured-clone serialisation (bigints
// and Buffers travel as they are). A request names an operation; the agent answers it once
// (done or error) and, for long work, sends progress in between: the daemon's deadline for a
// transfer restarts at each progress message, so a transfer times out on lack of progress, not
// on its size.

export interface AgentRequest {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}

export type AgentMessage =
  | { readonly id: number; readonly kind: 'progress'; readonly value?: unknown }
  | { readonly id: number; readonly kind: 'done'; readonly value: unknown }
  | {
      readonly id: number;
      readonly kind: 'error';
      readonly code: string;
      readonly message: string;
    };

/**
 * The errno names that mean "the remote (or the way to it) failed", not "this path is wrong":
 * any of them takes the volume offline.
 */
export const TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ENOTCONN',
  'EIO',
  'ETIMEDOUT',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ENETUNREACH',
  'ESTALE',
  'ECONNABORTED',
  'ECONNRESET',
  'ECONNREFUSED',
  'EREMOTEIO',
]);

export function isTransportCode(code: string | undefined): boolean {
  return code !== undefined && TRANSPORT_CODES.has(code);
}

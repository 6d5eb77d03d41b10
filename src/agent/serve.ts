// The agent's side: answer each request from the daemon with its operation's result, or the
// error's code (an errno name where the system gave one) and message. Requests run
// concurrently; the agent ends when the daemon goes (its IPC channel closes).
import { isTransportCode, type AgentMessage, type AgentRequest } from './protocol.js';

export type Operation = (args: unknown, progress: (value?: unknown) => void) => Promise<unknown>;

function send(m: AgentMessage): void {
  process.send?.(m);
}

/** The error's code: a transport errno wherever it hides (a wrapped cause), else its own. */
export function codeOf(err: unknown): string {
  const e = err as {
    code?: unknown;
    errno?: unknown;
    cause?: { code?: unknown };
    data?: { code?: unknown };
  };
  const codes = [e.errno, e.code, e.cause?.code, e.data?.code].filter(
    (c): c is string => typeof c === 'string',
  );
  return codes.find(isTransportCode) ?? codes[0] ?? 'EIO';
}

/** Serve `ops` until the daemon disconnects; resolves then. */
export function serveAgent(ops: Readonly<Record<string, Operation>>): Promise<void> {
  return new Promise((resolve) => {
    process.on('message', (m: AgentRequest) => {
      const op = ops[m.op];
      if (op === undefined) {
        send({ id: m.id, kind: 'error', code: 'EUSAGE', message: `no operation "${m.op}"` });
        return;
      }
      const progress = (value?: unknown): void => {
        send({ id: m.id, kind: 'progress', value });
      };
      op(m.args, progress).then(
        (value) => {
          send({ id: m.id, kind: 'done', value });
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          send({ id: m.id, kind: 'error', code: codeOf(err), message });
        },
      );
    });
    process.once('disconnect', () => {
      resolve();
    });
  });
}

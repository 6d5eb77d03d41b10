// The daemon's control socket (S/control.sock): one JSON object per line each way, one
// request per connection. Commands never write the store of a running daemon themselves:
// they ask it (DESIGN decision 14: the daemon owns the write side).
import { createConnection, createServer, type Server } from 'node:net';
import { unlink } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import { socketOf } from './layout.js';

export interface Request {
  readonly op: string;
  readonly [k: string]: unknown;
}

export type Reply =
  | { readonly ok: true; readonly [k: string]: unknown }
  | { readonly ok: false; readonly error: string; readonly code: string };

/** Values as they travel: bigints (mtimes in ns) as decimal strings. */
function wire(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export async function serveControl(
  storeDir: string,
  handle: (req: Request) => Promise<Record<string, unknown>>,
): Promise<Server> {
  const path = socketOf(storeDir);
  await unlink(path).catch(() => undefined); // left by a daemon that was killed
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let req: Request;
      try {
        req = JSON.parse(line) as Request;
      } catch {
        sock.end(JSON.stringify({ ok: false, error: 'not a JSON request', code: 'EUSAGE' }) + '\n');
        return;
      }
      const fail = (err: unknown): void => {
        const code = err instanceof TetherError ? err.code : 'EIO';
        sock.end(JSON.stringify({ ok: false, error: (err as Error).message, code }) + '\n');
      };
      handle(req).then((v) => {
        try {
          sock.end(JSON.stringify({ ok: true, ...v }, wire) + '\n');
        } catch (err) {
          fail(err);
        }
      }, fail);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Whether a daemon serves `dir` (a store's or a view's) and answers a ping within 3 s. */
export async function daemonAnswers(dir: string): Promise<boolean> {
  try {
    await request(dir, { op: 'ping' }, 3000);
    return true;
  } catch {
    return false;
  }
}

let sent = 0;

/**
 * How many requests this process has sent (connected and written) so far. Until one is, a
 * command has changed nothing and told no daemon anything: the thin command line
 * (cli/thin.ts) may still hand the command to the full one.
 */
export const requestsSent = (): number => sent;

/** Ask the daemon of `storeDir`; a daemon that is not there or does not answer is an error. */
export function request(
  storeDir: string,
  req: Request,
  timeoutMs: number,
  where = storeDir,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketOf(storeDir));
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new TetherError(
          'EIO',
          `the daemon of ${where} does not answer (waited ${timeoutMs / 1000} s for "${req.op}"): ` +
            `if it hangs, "tether unmount ${where}" stops it`,
          { op: req.op },
        ),
      );
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      sent++;
      sock.write(JSON.stringify(req) + '\n');
    });
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new TetherError(
          'EIO',
          `no daemon serves ${where} (${err.code ?? err.message}): ` +
            `run "tether unmount ${where}" to clean up, then "tether mount" again`,
          { op: req.op, code: err.code },
          { cause: err },
        ),
      );
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(buf) as Reply;
        if (r.ok) resolve(r);
        else reject(new TetherError(r.code === 'EUSAGE' ? 'EUSAGE' : 'EIO', r.error));
      } catch {
        reject(new TetherError('EIO', `the daemon of ${where} answered "${buf}", not JSON`));
      }
    });
  });
}

// The daemon's side of the remote agent: one child process that makes every call on the
// remote, each call with a deadline (DESIGN decisions 2 and 9). A call that misses its
// deadline, or an agent that dies, fails every call in flight with a transport error and the
// agent is SIGKILLed and forgotten: a process blocked on a hung network filesystem sits in
// uninterruptible sleep and cannot be waited for, so it is abandoned and reaped whenever the
// server lets it go. The next call starts a fresh agent. Nothing here ever blocks the event
// loop: the daemon only waits on messages and timers.
import { spawn, type ChildProcess } from 'node:child_process';
import { TetherError } from '../errors.js';
import { isTransportCode, type AgentMessage } from './protocol.js';

export interface AgentSpawn {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export interface CallOptions {
  /** The answer (or the first progress message) must arrive within this (ms). */
  readonly deadlineMs: number;
  /** After the first progress message, each next one must arrive within this (ms). */
  readonly idleMs?: number;
  readonly onProgress?: (value: unknown) => void;
}

/** A failed call: `code` is the errno name (or tether code) the agent reported. */
export class AgentCallError extends TetherError {
  constructor(
    readonly remoteCode: string,
    message: string,
    /** The remote failed or did not answer (as opposed to: this path is wrong). */
    readonly transport: boolean,
    /**
     * Cut here, not answered by the agent: a missed deadline, or the agent gone. An answered
     * error may still be one file's (volume/remote-fault.ts); a cut call is the remote's.
     */
    readonly cut = false,
  ) {
    super('EIO', message, { code: remoteCode }, { errno: remoteCode });
  }
}

interface Pending {
  readonly op: string;
  readonly opts: CallOptions;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: AgentCallError) => void;
  timer: NodeJS.Timeout;
}

export class AgentClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Agents killed after a missed deadline that have not exited yet (stuck in the kernel). */
  private readonly abandoned = new Set<ChildProcess>();
  private closed = false;

  constructor(
    private readonly how: AgentSpawn,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** How many replaced agents are still stuck (they exit when the server answers). */
  get stuck(): number {
    return this.abandoned.size;
  }

  call<T>(op: string, args: unknown, opts: CallOptions): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new AgentCallError('ENOTCONN', 'the remote agent is closed', true, true),
      );
    }
    const child = this.agent();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        op,
        opts,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: this.deadline(id, op, opts.deadlineMs),
      };
      this.pending.set(id, p);
      child.send({ id, op, args }, (err) => {
        if (err !== null) this.replace(`the remote agent took no request: ${err.message}`);
      });
    });
  }

  /** Start the agent now (its start-up then does not count against a first call's deadline). */
  start(): void {
    if (!this.closed) this.agent();
  }

  /** Kill the agent (if any) and fail every call in flight; the next call starts a new one. */
  replace(reason: string, code = 'ETIMEDOUT'): void {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) {
      this.abandoned.add(child);
      child.kill('SIGKILL');
      this.log(`remote agent ${String(child.pid)} replaced: ${reason}`);
    }
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) {
      clearTimeout(p.timer);
      p.reject(new AgentCallError(code, `${p.op}: ${reason}`, true, true));
    }
  }

  close(): void {
    this.closed = true;
    this.replace('the volume is closing', 'ENOTCONN');
  }

  private agent(): ChildProcess {
    if (this.child !== undefined) return this.child;
    const child = spawn(this.how.command, [...this.how.args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: this.how.env ?? process.env,
    });
    child.on('message', (m: AgentMessage) => {
      if (child === this.child) this.onMessage(m);
    });
    child.on('error', (err) => {
      if (child === this.child) this.replace(`the remote agent failed: ${err.message}`, 'ENOTCONN');
    });
    child.on('exit', (code, signal) => {
      this.abandoned.delete(child);
      if (child === this.child) {
        this.replace(`the remote agent exited (${String(signal ?? code)})`, 'ENOTCONN');
      }
    });
    this.child = child;
    return child;
  }

  private deadline(id: number, op: string, ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      if (this.pending.has(id)) this.replace(`${op}: the remote did not answer within ${ms} ms`);
    }, ms);
  }

  private onMessage(m: AgentMessage): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if (m.kind === 'progress') {
      clearTimeout(p.timer);
      p.timer = this.deadline(m.id, p.op, p.opts.idleMs ?? p.opts.deadlineMs);
      p.opts.onProgress?.(m.value);
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(m.id);
    if (m.kind === 'done') p.resolve(m.value);
    else p.reject(new AgentCallError(m.code, m.message, isTransportCode(m.code)));
  }
}

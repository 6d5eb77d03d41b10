// What every command shares: the --store option, error reporting (a TetherError's message
// says what was wrong and what to do), exit codes (0 ok, 1 error, 2 usage, 3 conflicts
// remain), and JSON output.
import { Command, Option } from 'clipanion';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isTetherError } from '../src/errors.js';

export const EXIT = { ok: 0, error: 1, usage: 2, conflicts: 3 } as const;

export abstract class TetherCommand extends Command {
  /** Exit status for an error this command did not expect (diff overrides it: 2). */
  protected errorExit: number = EXIT.error;

  override catch(err: unknown): Promise<void> {
    this.report(err);
    return Promise.resolve();
  }

  private report(err: unknown): void {
    if (isTetherError(err)) {
      this.context.stderr.write(`tether: ${err.message}\n`);
      process.exitCode = err.code === 'EUSAGE' ? EXIT.usage : this.errorExit;
      return;
    }
    if (err instanceof Error && err.name === 'UsageError') {
      this.context.stderr.write(`tether: ${err.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && typeof e.syscall === 'string') {
      this.context.stderr.write(`tether: ${e.message}\n`);
      process.exitCode = this.errorExit;
      return;
    }
    this.context.stderr.write(
      `tether: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = this.errorExit;
  }

  protected json(value: unknown): void {
    this.context.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
  }

  protected out(line: string): void {
    this.context.stdout.write(line + '\n');
  }
}

/** JSON for our values: bigints as strings (mtime in ns), Buffers as base64. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer'
  ) {
    const data = (value as { data?: number[] }).data ?? [];
    return { base64: Buffer.from(data).toString('base64') };
  }
  return value;
}

/** The --store option: defaults to $XDG_DATA_HOME/tether/<name>. */
export function storeOption(): string | undefined {
  return Option.String('--store', {
    description: 'Store directory (default $XDG_DATA_HOME/tether/default)',
  });
}

export function resolveStore(store: string | undefined, volumeName = 'default'): string {
  if (store !== undefined) return resolve(store);
  const data = process.env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share');
  return join(data, 'tether', volumeName);
}

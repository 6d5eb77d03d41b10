// What a command's output and exit status are, apart from any argument parser: the exit codes
// (0 ok, 1 error, 2 usage, 3 conflicts remain), JSON for our values, and the lines and JSON a
// command prints. Shared by the clipanion commands and the thin command line (cli/thin.ts),
// which prints the same through the same functions.

export const EXIT = { ok: 0, error: 1, usage: 2, conflicts: 3 } as const;

/** The version `tether --version` prints. */
export const VERSION = '0.1.0';

/** Where a command prints its result. */
export interface Io {
  out(line: string): void;
  json(value: unknown): void;
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

/** Output to a stream: one line each, JSON indented by two. */
export function streamIo(stream: { write(text: string): unknown }): Io {
  return {
    out: (line) => void stream.write(line + '\n'),
    json: (value) => void stream.write(JSON.stringify(value, jsonReplacer, 2) + '\n'),
  };
}

/**
 * End the process as soon as the command is done and its output written. Left to end by
 * itself, Node tears its whole environment down first (about 50 ms on a small machine); every
 * store is closed and every write awaited by then.
 */
export function exitWhenWritten(): void {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  if (pending.length === 0) process.exit();
  let left = pending.length;
  for (const s of pending) {
    s.once('drain', () => {
      if (--left === 0) process.exit();
    });
  }
}

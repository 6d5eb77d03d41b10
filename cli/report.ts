// The command line's error boundary: whatever reaches the user is a tether message (what went
// wrong, where, what to do) with the documented exit code, never a bare Node stack trace. A
// system error names its errno and the file; anything else is a bug, said to be one, with the
// place it happened and the full details written to a file the user can attach to a report.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errnoAdvice, isTetherError } from '../src/errors.js';

export interface Report {
  readonly message: string;
  /** 'usage' for a usage error, 'error' for anything else (the command picks the number). */
  readonly kind: 'usage' | 'error';
}

const OTHER_ADVICE: Record<string, string> = {
  EACCES: 'permission denied: check the owner and mode of the file and its directories',
  EPERM: 'the operation is not permitted for this user',
  ENOENT: 'no such file or directory',
};

const VERBS: Record<string, string> = {
  open: 'opening',
  read: 'reading',
  write: 'writing',
  scandir: 'listing',
  opendir: 'listing',
  lstat: 'examining',
  stat: 'examining',
  rename: 'renaming',
  unlink: 'removing',
  rmdir: 'removing',
  mkdir: 'making',
  fsync: 'syncing',
};

export function describe(err: unknown, command: string): Report {
  if (isTetherError(err))
    return { message: err.message, kind: err.code === 'EUSAGE' ? 'usage' : 'error' };
  if (err instanceof Error && err.name === 'UsageError')
    return { message: err.message, kind: 'usage' };
  const e = err as NodeJS.ErrnoException | null;
  if (typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string') {
    return { message: systemError(e, command), kind: 'error' };
  }
  return { message: internalError(err, command), kind: 'error' };
}

function systemError(e: NodeJS.ErrnoException, command: string): string {
  const code = e.code ?? 'EIO';
  const verb = VERBS[e.syscall ?? ''] ?? `${e.syscall ?? 'a system call'} on`;
  const dest = (e as { dest?: string }).dest;
  const where =
    e.path !== undefined
      ? `${verb} ${e.path}${dest === undefined ? '' : ` to ${dest}`}`
      : `${verb} a file`;
  const advice = errnoAdvice(code, OTHER_ADVICE[code] ?? `the system answered ${code}`);
  return (
    `${command} failed ${where}: ${advice} (${code}, ${e.syscall ?? 'unknown call'}); ` +
    'run the command again once that is fixed'
  );
}

/** The first frame of a stack that is not Node's own: where the error was thrown. */
function origin(stack: string | undefined): string {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const frame = line.trim().replace(/^at /, '');
    if (frame !== '' && !frame.includes('node:internal')) return frame;
  }
  return 'an unknown place';
}

function internalError(err: unknown, command: string): string {
  const stack = err instanceof Error ? err.stack : undefined;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  let saved = '';
  try {
    const file = join(tmpdir(), `tether-crash-${process.pid}-${Date.now()}.txt`);
    writeFileSync(
      file,
      `tether ${command}\nnode ${process.version} ${process.platform} ${process.arch}\n\n${stack ?? what}\n`,
      { mode: 0o600 },
    );
    saved = ` The details are in ${file}.`;
  } catch {
    // The report is the message itself then.
  }
  return (
    `internal error in ${command} (a bug in tether, not in your files): ${what}, in ${origin(stack)}.` +
    `${saved} Please report it to the tether maintainers with the command you ran and that file.`
  );
}

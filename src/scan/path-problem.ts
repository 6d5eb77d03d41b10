// A path that cannot be listed or read (EACCES, EIO, gone while it was read) is a problem of
// that path, not of the run: the scan leaves it as base has it, the plan's actions on it are
// skipped, base does not move there, and the run ends with status 1 saying what to do. With
// --strict (and for a replica's root, without which nothing can be planned) it stops the run.
import { errnoAdvice, TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { display } from '../tree/index.js';

export interface PathProblem {
  /** The path, relative to its replica's root. */
  readonly path: Path;
  /** Which replica ('local' or 'server'), where the caller knows it. */
  readonly side?: string;
  readonly reason: string;
  /** The errno name, where the system gave one (EACCES: see sync/auth-trouble.ts). */
  readonly code?: string;
}

/** True for an error problemError made: one path's problem, not the run's. */
export function isPathProblem(err: unknown): err is TetherError {
  return err instanceof TetherError && err.data.pathProblem === true;
}

/**
 * The error for \`path\` in \`root\` that could not be read (or listed, for a directory): what
 * happened and what to do about it. \`strict\`: the run stops for it (else the path is left as
 * it is this run).
 */
export function problemError(
  err: unknown,
  path: Path,
  root: string,
  what: 'read' | 'list',
  strict: boolean,
): TetherError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const where = `${display(path === '' ? '.' : path)} in ${root}`;
  const then = strict ? 'the run stopped' : 'it was left as it is this run';
  let text: string;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      text = `${where} vanished while it was ${what === 'read' ? 'read' : 'listed'}; ${then}, and the next run sees what is there`;
      break;
    case 'EACCES':
    case 'EPERM':
      text =
        `cannot ${what} ${where}: permission denied (${code}); ${then}: make it readable by ` +
        `this user (chmod u+r${what === 'list' ? 'x' : ''}), or move it out of the replica, then run again`;
      break;
    case 'EIO':
      text =
        `cannot ${what} ${where}: input/output error (EIO: the disk or the network filesystem ` +
        `failed); ${then}: check the device or the mount, then run again`;
      break;
    default:
      text = `cannot ${what} ${where}: ${(err as Error).message}; ${then}: ${errnoAdvice(code, 'fix that')}, then run again`;
  }
  return new TetherError(
    code === 'ENOENT' || code === 'ENOTDIR' ? 'ECHANGED' : 'EIO',
    text,
    { path: display(path), pathProblem: true },
    { cause: err, ...(code === '' ? {} : { errno: code }) },
  );
}

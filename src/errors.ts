// One error type for the whole project: a literal `code`, a message that says what was wrong
// and what to do, structured `data`, and (where one applies) the errno name the FUSE layer maps.

export type ErrorCode =
  | 'EBADTREE' // a tree encoding is not canonical or carries an unsafe name
  | 'ECORRUPT' // an object's bytes do not match its id
  | 'ENOTFOUND' // a named thing (object, snapshot, path) does not exist
  | 'ENOTSTORE' // a directory is not a tether store
  | 'EUSAGE' // the caller asked for something that makes no sense
  | 'EIO' // an I/O failure while reading or writing
  | 'ECHANGED' // a file changed while it was being read
  | 'EREMOTEGONE' // a remote root is missing or empty (mass-deletion guard)
  | 'ELOCKED' // another process holds the store
  | 'EUNSAFE' // a path would leave its replica (a parent became a symlink, an unsafe name)
  | 'EDAMAGED' // the store's database or one of its records is damaged
  | 'EAUTH'; // the server refuses this user across the board (permissions, a lost login)

export class TetherError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;
  readonly errno: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    data: Record<string, unknown> = {},
    options: { cause?: unknown; errno?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TetherError';
    this.code = code;
    this.data = data;
    this.errno = options.errno;
  }
}

export function isTetherError(err: unknown, code?: ErrorCode): err is TetherError {
  return err instanceof TetherError && (code === undefined || err.code === code);
}

/**
 * What an errno of the machine or the network (not of permissions: callers word those for
 * what they were doing) means for the user and what to do, by the errno's name.
 */
const ADVICE: Record<string, string> = {
  EIO: 'an input/output error: if this is on a network filesystem, check that the server answers (and remount it if it was lost); otherwise check the disk',
  ENOTCONN: 'the filesystem is not connected (a network mount whose server went away): remount it',
  ECONNABORTED: 'the connection to the server was lost: remount the share',
  ETIMEDOUT: 'the server did not answer in time: check the network and the server',
  EHOSTDOWN: 'the server is down: try again when it answers',
  ESTALE: 'a stale network file handle: remount the share',
  ENOSPC: 'no space left on the device: free some space',
  EDQUOT: 'the disk quota is exceeded: free some space',
  EROFS: 'the filesystem is mounted read-only',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
};

/** errnoAdvice('EIO', …): the advice for a system error's code, or `otherwise`. */
export function errnoAdvice(code: unknown, otherwise: string): string {
  return (typeof code === 'string' ? ADVICE[code] : undefined) ?? otherwise;
}

/** Used at the end of exhaustive switches: the type checker proves it unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

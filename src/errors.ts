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
  | 'EDAMAGED'; // the store's database or one of its records is damaged

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

/** Used at the end of exhaustive switches: the type checker proves it unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

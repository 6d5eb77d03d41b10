// The one place where errors become errnos for the kernel (STYLE habit 5): a TetherError
// carrying an errno name answers that errno, a system error its own code; anything else is a
// bug, logged and answered EIO. FUSE wants them negative.
import { constants } from 'node:os';
import { isTetherError } from '../errors.js';

const ERRNO = constants.errno as Record<string, number>;

export function errnoOf(err: unknown, log: (line: string) => void = () => undefined): number {
  if (isTetherError(err) && err.errno !== undefined) return -(ERRNO[err.errno] ?? ERRNO['EIO']!);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && ERRNO[code] !== undefined) return -ERRNO[code];
  log(
    `unexpected error answered EIO: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return -ERRNO['EIO']!;
}

export const errno = (name: string): number => -(ERRNO[name] ?? ERRNO['EIO']!);

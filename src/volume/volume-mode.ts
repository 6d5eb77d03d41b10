// A volume's mode as it is kept in its store and shown by `tether status`: online, or offline
// for one of three causes. Asked to be offline (`tether offline`) is never undone
// automatically; a failed remote and a remote that refuses this user across the board
// (auth-required: sync/auth-trouble.ts) are both retried by the reconnector.
import { TetherError } from '../errors.js';

export type Mode = 'online' | 'offline';
export type OfflineCause = 'manual' | 'failure' | 'auth';

export const MODE_TEXT = {
  manual: 'offline',
  failure: 'offline:failure',
  auth: 'auth-required',
} as const;

/** The mode a kept text stands for (none or unknown: online). */
export function modeOf(text: string | undefined): { mode: Mode; cause: OfflineCause } {
  const cause = Object.entries(MODE_TEXT).find(([, t]) => t === text)?.[0];
  return cause === undefined
    ? { mode: 'online', cause: 'manual' }
    : { mode: 'offline', cause: cause as OfflineCause };
}

/** What `tether online` says when the server refused this user (`err`, an EAUTH). */
export function authRequired(err: unknown): TetherError {
  return new TetherError(
    'EAUTH',
    `${(err as Error).message}. The volume waits in auth-required: its local changes are ` +
      'kept, and it retries by itself (in auto mode) or at "tether online"',
    {},
    { cause: err },
  );
}

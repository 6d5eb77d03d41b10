// The mass-deletion guard at the door (MERGE.md invariant 10): an unmounted share looks like a
// missing or empty directory, so a server replica that is either stops the run before any
// scan, and nothing changes. The one exception is asked for by name: a first run with
// --initial may fill an empty server directory (a first run never deletes anything). The
// local replica must exist too (it is never created).
import { readdir, stat } from 'node:fs/promises';
import { TetherError } from '../errors.js';
import { isDenied, rootDenied } from './auth-trouble.js';

export async function checkReplicas(
  local: string,
  server: string,
  /**
   * --initial was given; whether this is a first run. Not known yet (undefined): an empty
   * server replica is left to be judged once it is.
   */
  opts: { readonly initial?: boolean; readonly firstRun?: boolean } = {},
): Promise<void> {
  const l = await stat(local).catch(() => undefined);
  if (l?.isDirectory() !== true) {
    throw new TetherError(
      'ENOTFOUND',
      `the local replica ${local} is ${l === undefined ? 'missing' : 'not a directory'}: ` +
        `create it (an empty directory is fine) and run again`,
      { local },
    );
  }
  // A refusal is not a missing share: the user's access was lost (auth-trouble.ts).
  const s = await stat(server).catch((err: unknown) => {
    if (isDenied(err)) throw rootDenied(server, err);
    return undefined;
  });
  if (s === undefined) {
    throw new TetherError(
      'EREMOTEGONE',
      `the server replica ${server} is missing: is the share mounted? Nothing was changed`,
      { server },
    );
  }
  if (!s.isDirectory()) {
    throw new TetherError('EUSAGE', `the server replica ${server} is not a directory`, { server });
  }
  const names = await readdir(server).catch((err: unknown) => {
    if (isDenied(err)) throw rootDenied(server, err);
    throw new TetherError(
      'EIO',
      `cannot list the server replica ${server}: ${(err as Error).message}; nothing was changed`,
      { server },
      { cause: err },
    );
  });
  const first = opts.firstRun;
  if (names.length === 0 && first !== undefined && !(first && opts.initial === true)) {
    throw new TetherError(
      'EREMOTEGONE',
      `the server replica ${server} is empty: an unmounted share looks like this, so the sync ` +
        `stopped and nothing was changed. Mount it and run again` +
        (first ? `; or, if it is meant to start empty, fill it from ${local} with --initial` : ''),
      { server },
    );
  }
}

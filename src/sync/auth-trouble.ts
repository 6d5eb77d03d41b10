// Authentication trouble (issue 16 item 7): when the server refuses this user across the board
// (its login lost its rights, a share's permissions were changed under it), every listing it
// refuses would look like a directory whose contents are unknown. One such directory is a
// problem of that path (path-problem.ts: left as base has it, the run goes on). Across the
// board it is the server's answer to the user, not to the paths: the run stops before it plans
// anything (nothing is deleted, nothing becomes a conflict, local changes stay where they are)
// and says so with EAUTH; a volume then waits in `auth-required` and retries later.
//
// The rule: the server replica's root cannot be stat'ed or listed for a permission error, or
// more than half of the server directories the scan tried to list refused with one (and at
// least two did: a tree of one directory says nothing).
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import type { PathProblem } from '../scan/path-problem.js';
import type { Hash, TreeReader } from '../tree/index.js';
import { display } from '../tree/index.js';

/** The errno names of a refusal for this user (as opposed to a server that does not answer). */
export const DENIED_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM']);

const ADVICE =
  'give this user access to it again (its permissions, or the login or key the share is ' +
  'mounted with), then sync again';

/** True when `err` (or an error it wraps) is a permission refusal. */
export function isDenied(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const { code, errno, cause } = e as { code?: unknown; errno?: unknown; cause?: unknown };
    if (DENIED_CODES.has(String(code)) || DENIED_CODES.has(String(errno))) return true;
    e = cause;
  }
  return false;
}

/** True for the error of a run (or of a remote agent's call) stopped by authentication trouble. */
export function isAuthTrouble(err: unknown): boolean {
  const e = err as { code?: unknown; remoteCode?: unknown } | undefined;
  return e?.code === 'EAUTH' || e?.remoteCode === 'EAUTH';
}

/** The run's error for a server root that refused this user (`cause`: the refusal). */
export function rootDenied(server: string, cause: unknown): TetherError {
  const code = (cause as { code?: unknown }).code;
  return new TetherError(
    'EAUTH',
    `the server replica ${server} refused this user (permission denied${typeof code === 'string' ? `, ${code}` : ''}): ` +
      `the sync stopped before planning anything and nothing was changed; ${ADVICE}`,
    { server },
    { cause },
  );
}

/** Directories of `tree` the scan listed (the root among them), not under a refused one. */
function readableDirs(store: TreeReader, tree: Hash, refused: ReadonlySet<Path>): number {
  let n = 1;
  const walk = (id: Hash, prefix: string): void => {
    for (const e of store.readTree(id)) {
      if (e.kind !== 'dir' || e.id === undefined) continue;
      const path = prefix + e.name;
      if (refused.has(path)) continue;
      n++;
      walk(e.id, path + '/');
    }
  };
  walk(tree, '');
  return n;
}

/**
 * Throws EAUTH when the server's listing problems are refusals across the board (the rule
 * above); else leaves them the per-path problems they are.
 */
export function checkServerAccess(
  store: TreeReader,
  server: string,
  scanned: Hash,
  problems: readonly PathProblem[],
): void {
  const refused = problems.filter((p) => p.code !== undefined && DENIED_CODES.has(p.code));
  if (refused.length < 2) return;
  const listed = refused.length + readableDirs(store, scanned, new Set(refused.map((p) => p.path)));
  if (refused.length * 2 <= listed) return;
  const some = refused
    .slice(0, 3)
    .map((p) => display(p.path))
    .join(', ');
  throw new TetherError(
    'EAUTH',
    `the server replica ${server} refused this user ${refused.length} of the ${listed} directories ` +
      `the sync listed (permission denied: ${some}${refused.length > 3 ? ', …' : ''}): the sync ` +
      `stopped before planning anything and nothing was changed; ${ADVICE}`,
    { server, refused: refused.length, listed },
  );
}

// The errors resolve answers with, each saying what was wrong and what to do next.
import { TetherError } from '../errors.js';
import type { Conflict, Path } from '../merge/plan.js';
import { display, type Entry } from '../tree/index.js';
import type { Outcome } from '../replica/replica.js';

/** The path is neither what base says nor the chosen result: check before overwrite. */
export function changed(label: string, path: Path, want: Entry | null): TetherError {
  return new TetherError(
    'ECHANGED',
    `${display(path)} changed in the ${label} since the last sync, so resolve did not ` +
      `${want === null ? 'delete' : 'overwrite'} it: run tether sync-dirs again, then resolve`,
    { path: display(path), replica: label },
  );
}

/** Turn a replica's problem into an error that says what to do. */
export function check(o: Outcome, path: Path): void {
  if (o.ok) return;
  throw new TetherError(
    'ECHANGED',
    `${o.reason} (resolve did not overwrite it: run tether sync-dirs again, then resolve ${display(path)})`,
    { path: display(path) },
  );
}

/** Resolve moves files, symlinks and directories; special files are never copied. */
export function supported(c: Conflict, e: Entry, what: string): void {
  if (e.kind === 'file' || e.kind === 'symlink' || e.kind === 'dir') return;
  throw new TetherError(
    'EUSAGE',
    `${display(c.path)}: resolve cannot ${what} a ${e.kind}, which is never copied; ` +
      `take server (or both), or move it into place by hand and sync again`,
    { path: display(c.path) },
  );
}

export function noConflict(open: readonly Conflict[], path: Path): TetherError {
  const paths = open.map((c) => display(c.path));
  return new TetherError(
    'ENOTFOUND',
    `no conflict is recorded at ${display(path)}; ` +
      (paths.length === 0 ? 'there are no conflicts' : `conflicted paths: ${paths.join(', ')}`),
    { path: display(path), conflicts: paths },
  );
}

export function notKept(c: Conflict, take: string, at?: Path): TetherError {
  const part = at === undefined || at === c.path ? '' : ` (${display(at)})`;
  return new TetherError(
    'ENOTFOUND',
    `the ${take} version of ${display(c.path)}${part} is not kept in the store, so it cannot be restored: ` +
      `take another version; or put the version you want at the path in both replicas, run ` +
      `sync-dirs, then take server`,
    { path: display(c.path) },
  );
}

// The case table's coordinates: what each of (base, local, server) is at one path. The merge
// decides every path from this triple with one exhaustive switch, so no combination can be
// forgotten silently: adding a state makes the type checker list every case it touches.
import { changedFields, type Entry, type Kind } from '../tree/index.js';

/** Base at a path: absent, a non-directory ("leaf"), or a directory. */
export type BaseState = 'none' | 'leaf' | 'dir';
/** A live side relative to base: absent, unchanged, or a changed/new leaf or directory. */
export type SideState = 'absent' | 'same' | 'leaf' | 'dir';
export type Case = `${BaseState}:${SideState}:${SideState}`;

export function baseState(b: Entry | undefined): BaseState {
  return b === undefined ? 'none' : b.kind === 'dir' ? 'dir' : 'leaf';
}

/** Unchanged: same kind and no field differs (an unknown id with an equal stamp is unchanged). */
export function unchanged(b: Entry | undefined, x: Entry | undefined): boolean {
  if (b === undefined || x === undefined) return b === x;
  return b.kind === x.kind && changedFields(b, x).length === 0;
}

export function sideState(b: Entry | undefined, x: Entry | undefined): SideState {
  if (x === undefined) return 'absent';
  if (b !== undefined && unchanged(b, x)) return 'same';
  return x.kind === 'dir' ? 'dir' : 'leaf';
}

export function caseOf(b: Entry | undefined, l: Entry | undefined, s: Entry | undefined): Case {
  return `${baseState(b)}:${sideState(b, l)}:${sideState(b, s)}`;
}

const SPECIAL: ReadonlySet<Kind> = new Set<Kind>(['fifo', 'socket', 'chardev', 'blockdev']);

/** Fifos, sockets and devices belong to the host they are on: never created or deleted elsewhere. */
export function isSpecial(e: Entry | undefined): boolean {
  return e !== undefined && SPECIAL.has(e.kind);
}

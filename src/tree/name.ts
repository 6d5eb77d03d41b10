// Name rules: a name is one path component. Unsafe names are rejected wherever a tree is
// decoded or built, so no tree can ever make a path escape its directory.
import { TetherError } from '../errors.js';
import { display, type ByteString } from './bytes.js';

/** Why a name is unsafe, or undefined when it is fine. */
export function unsafeNameReason(name: ByteString): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `reserved name ${name}`;
  if (name.includes('/')) return 'name contains "/"';
  if (name.includes('\0')) return 'name contains NUL';
  return undefined;
}

export function checkName(name: ByteString, where = 'tree'): void {
  const why = unsafeNameReason(name);
  if (why !== undefined) {
    throw new TetherError('EBADTREE', `unsafe name ${display(name)} in ${where}: ${why}`, {
      name: display(name),
    });
  }
}

/**
 * Why a relative path (names joined by "/", '' for the root) is unsafe, or undefined: every
 * name in it must pass the name rules, so no path read back from the store can leave its root.
 */
export function unsafePathReason(path: ByteString): string | undefined {
  if (path === '') return undefined;
  for (const name of path.split('/')) {
    const why = unsafeNameReason(name);
    if (why !== undefined) return why;
  }
  return undefined;
}

// The content id that names a variant (its h8). Files and directories have one; a symlink
// or special file may not, and a server file known only by its stamp has none: those are
// named by a hash of what identifies them, so the name is still deterministic.
import { bytesOf, hashBytes, type Entry, type Hash } from '../tree/index.js';

export function contentKey(e: Entry): Hash {
  if (e.id !== undefined) return e.id;
  const what =
    e.target !== undefined
      ? `symlink\0${e.target}`
      : `${e.kind}\0${e.size}\0${e.mtimeNs}\0${e.rdev ?? ''}`;
  return hashBytes(bytesOf(what));
}

// The local scan's placeholder hook (ScanOptions.placeholder) over a volume's records: base's
// own file where a placeholder was made; base's entry at the origin for one renamed or linked
// since, where base knows its content id; and left out where it does not (its zeros are no
// content, and nothing may copy them anywhere). A sync settles moved placeholders before it
// scans (settle-moved.ts), so only dry runs, status and snapshots meet the last two.
import type { Path } from '../merge/plan.js';
import { REF_BASE } from '../store/kv.js';
import type { Store } from '../store/store.js';
import { lookup } from '../merge/tree-edit.js';
import type { Entry } from '../tree/index.js';
import type { Placeholders } from './placeholders.js';

/** Only the inode is asked for: a listing's stat or an lstat will do. */
export type PlaceholderHook = (path: Path, st: { readonly ino: bigint }) => boolean | Entry | null;

export function placeholderHook(store: Store, placeholders: Placeholders): PlaceholderHook {
  return (path, st) => {
    if (placeholders.is(path, st.ino)) return true;
    const origin = placeholders.movedFrom(path, st.ino);
    if (origin === undefined) return false;
    const base = store.getRef(REF_BASE);
    const b = base === undefined ? undefined : lookup(store, base, origin);
    return b?.kind === 'file' && b.id !== undefined ? b : null;
  };
}

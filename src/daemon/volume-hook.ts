// The hidden `.tether/` tree in a mounted volume (hidden.ts), wired to the volume: it reads
// the volume's store and local view, what fails there is told by `tether why`, and `changed`
// is told of each new root of a followed variant (the mount invalidates what differs), and
// `invalidate` of each snapshot name taken or removed.
import type { Operations } from '../fuse/operations.js';
import { joinPath } from '../tree/index.js';
import type { Volume } from '../volume/volume.js';
import { HIDDEN_NAME, withHiddenTree, type RootChanged } from '../view/hidden.js';

export function withVolumeViews(
  ops: Operations,
  v: Volume,
  log: (line: string) => void,
  changed: RootChanged,
  invalidate: (path: string) => void,
): { ops: Operations; follow: () => void } {
  return withHiddenTree(
    ops,
    { store: v.store, local: v.local, placeholder: (p) => v.placeholders.isNow(p) },
    {
      log,
      changed,
      invalidate,
      noData: (path, op, why) => {
        v.why.note(joinPath(HIDDEN_NAME, path), 'EDISCONDATA', op, why);
      },
      shadowed: () => {
        v.why.note(
          HIDDEN_NAME,
          'ESHADOWED',
          'lookup',
          `the server has a ${HIDDEN_NAME} of its own; the mount shows tether's views there instead (the server's copy is in the local view, and on the server)`,
        );
      },
    },
  );
}

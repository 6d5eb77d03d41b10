// The first run's guard: two trees that differ wildly are a mistake more often than not.
import { TetherError } from '../../errors.js';
import { diffTrees } from '../../merge/diff.js';
import { EMPTY_TREE_ID, type Hash, type TreeReader } from '../../tree/index.js';

/** Share of differing paths above which a first run wants --initial. */
const WILD = 0.1;

function countPaths(reader: TreeReader, id: Hash): number {
  let n = 0;
  for (const e of reader.readTree(id)) {
    n++;
    if (e.kind === 'dir' && e.id !== undefined) n += countPaths(reader, e.id);
  }
  return n;
}

export function checkFirstRun(
  store: TreeReader,
  local: Hash,
  server: Hash,
  initial: boolean,
): void {
  if (initial || local === EMPTY_TREE_ID || server === EMPTY_TREE_ID) return;
  const changes = diffTrees(store, local, server);
  // Every path either side has: local's, and those only the server has (an added directory
  // lists every path below it).
  const total = countPaths(store, local) + changes.filter((c) => c.status === 'A').length;
  // Content, type or presence: copies made without keeping times are still the same tree.
  const differ = changes.filter((c) => c.status !== 'M' || c.fields.includes('content')).length;
  if (total > 0 && differ / total > WILD) {
    throw new TetherError(
      'EUSAGE',
      `this is the first sync of these replicas and they differ in ${differ} of ${total} paths: ` +
        `are these the right two directories? If so, run again with --initial ` +
        `(nothing is deleted on a first run; differing files are kept as conflict variants)`,
      { differ, total },
    );
  }
}

// Hard-link groups of a volume's local view, in O(changes) (local-tree.ts records them in the
// tree, links.ts says how). Links there are made only through the mount, whose link call puts
// the new name on the changed-path list; a name leaves that list only while a tree is composed,
// and then its group is found and remembered here. So every name of a file with several is on
// the list or remembered, and only those names are looked at (one lstat each). Where a file
// has more links than the names found for it (a link to a file that was not on the list, a
// directory renamed with a member inside, a record lost), the view's directories are listed
// once instead, and what they show is remembered from then on.
//
// The record is a cache (the store drops caches in gc's sweep and fsck --repair): without it,
// the next tree lists the view's directories once.
import type { Path } from '../merge/plan.js';
import { fsPath, lstatOrNoneSync } from '../scan/fs-entry.js';
import { LinkFinder, linkKeysUnder } from '../scan/links.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { asBytes, type KvDb } from '../store/kv.js';
import type { ByteString } from '../tree/index.js';

const MEMBERS = Buffer.from('members');

export interface LocalLinks {
  /** Each member of a group and its key. */
  readonly keys: Map<Path, ByteString>;
  /** The view's directories were listed (the names looked at did not account for every link). */
  readonly walked: boolean;
}

/**
 * The names of files with several, as the last tree found them: a write through one name
 * changes them all, while only the name written is on the changed-path list (local-tree.ts
 * looks at them all again).
 */
export function rememberedMembers(db: KvDb): readonly Path[] {
  return remembered(db) ?? [];
}

function remembered(db: KvDb): Path[] | undefined {
  const v = asBytes(db.get(MEMBERS));
  if (v === undefined) return undefined;
  try {
    const paths = JSON.parse(v.toString('utf8')) as unknown;
    return Array.isArray(paths) && paths.every((p) => typeof p === 'string') ? paths : undefined;
  } catch {
    return undefined; // an unreadable record is only a missed shortcut
  }
}

/**
 * The link groups under `root` (the view's directory), looking at `candidates` (the changed
 * paths; undefined when the list is not trusted) and the members remembered in `db`; `skip`:
 * paths not in the tree (variants).
 */
export async function localLinkKeys(
  db: KvDb,
  root: string,
  candidates: readonly Path[] | undefined,
  skip: ReadonlySet<Path>,
): Promise<LocalLinks> {
  const had = remembered(db);
  let keys: Map<Path, ByteString> | undefined;
  if (had !== undefined && candidates !== undefined) {
    const finder = new LinkFinder(skip);
    const links = new Map<string, number>();
    const found = new Map<string, number>();
    const rootBuf = Buffer.from(root);
    for (const p of new Set([...had, ...candidates])) {
      if (p === '' || skip.has(p) || p.slice(p.lastIndexOf('/') + 1).startsWith(TEMP_PREFIX)) {
        continue;
      }
      const st = lstatOrNoneSync(fsPath(rootBuf, p));
      if (st === undefined || !st.isFile() || st.nlink < 2n) continue;
      const inode = `${String(st.dev)}:${String(st.ino)}`;
      finder.add(inode, p);
      links.set(inode, Number(st.nlink));
      found.set(inode, (found.get(inode) ?? 0) + 1);
    }
    // Every name of every file found: the names looked at were all there are.
    if ([...links].every(([inode, n]) => found.get(inode) === n)) keys = finder.keys();
  }
  const walked = keys === undefined;
  keys ??= linkKeysUnder(root, skip);
  const members = [...keys.keys()].sort();
  if (had === undefined || members.join('\0') !== [...had].sort().join('\0')) {
    await db.put(MEMBERS, Buffer.from(JSON.stringify(members), 'utf8'));
  }
  return { keys, walked };
}

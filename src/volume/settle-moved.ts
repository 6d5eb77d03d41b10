// Before a sync: placeholders renamed or linked since the last one. A placeholder renamed
// (not linked) whose origin the server still has as base has it, to a name free on the
// server whose parent is a directory there and in base, is renamed on the server at once, as
// the journal of renames MERGE.md rule R speaks of: no data is sent or fetched, base follows,
// and the file stays a placeholder under its new name.
//
// Any other (a link, a directory made offline as the new parent, a name taken): the engine
// has no journal of renames; it infers them from content ids, and a placeholder has none of
// its own (its zeros are no content) while base often has no id for a file it never hashed.
// So such a placeholder is filled, in place, with the server's file at its origin:
//   - the server's file still has base's stamp: it is the content the user moved. Base learns
//     its id, the local scan finds the same id at the new name, and the merge plans a rename
//     on the server (no data sent);
//   - the server changed it: the local file holds the server's version, and the merge keeps
//     both names (rule M: the edit at the old name, a record; the moved copy at the new one);
//   - the server removed it: its content is nowhere (it was never fetched). The moved name is
//     removed here too, and said so in the log: nothing that anyone had is lost.
// A fill is done in place (same inode) and its records dropped only afterwards: killed midway,
// the file is still a placeholder, and the next sync fills it again.
import { lstat, unlink } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import type { PathUpdate } from '../merge/base-update.js';
import { fsPath, isMissing } from '../scan/fs-entry.js';
import { closeMtime } from '../scan/stamp.js';
import { REF_BASE } from '../store/kv.js';
import type { Store } from '../store/store.js';
import { advanceBaseAt } from '../sync/binding.js';
import { lastName, parentOf, type Entry } from '../tree/index.js';
import { lookup } from '../merge/tree-edit.js';
import { DirReplica } from '../replica/dir.js';
import { fetchInPlace, localRangeSource } from './fetch.js';
import { DEFAULT_POLICY } from './partial-fetch.js';
import { RangeStore } from './range-store.js';
import type { Placeholders, PlaceholderRecord } from './placeholders.js';

export interface Settled {
  /** Paths of the view written or removed (the daemon's changed-path list and kernel cache). */
  readonly touched: Path[];
  /** Moved placeholders whose origin the server removed: gone, with why. */
  readonly lost: { path: Path; reason: string }[];
}

/** Base's entry at `path`, if base has one. */
function baseAt(store: Store, path: Path): Entry | undefined {
  const base = store.getRef(REF_BASE);
  return base === undefined ? undefined : lookup(store, base, path);
}

export async function settleMoved(
  store: Store,
  local: string,
  remote: string,
  placeholders: Placeholders,
): Promise<Settled> {
  const out: Settled = { touched: [], lost: [] };
  const localBuf = Buffer.from(local);
  const remoteBuf = Buffer.from(remote);
  // The names of each inode (hard links), checked against the view now.
  const byInode = new Map<bigint, PlaceholderRecord[]>();
  for (const r of [...placeholders.moved('')]) {
    const st = await lstat(fsPath(localBuf, r.path), { bigint: true }).catch(() => undefined);
    if (st === undefined || st.ino !== r.ino || !st.isFile()) {
      await placeholders.removeMoved(r.path); // stale: the name holds something else now
      continue;
    }
    const list = byInode.get(r.ino);
    if (list === undefined) byInode.set(r.ino, [r]);
    else list.push(r);
  }
  const server = new DirReplica(remoteBuf, 'server');
  const ranges = new RangeStore(store.db('volume'));
  const learned: PathUpdate[] = [];
  const filled: PlaceholderRecord[][] = [];
  for (const names of byInode.values()) {
    const first = names[0]!;
    const origin = first.origin;
    const b = baseAt(store, origin);
    const alone = names.length === 1 && !placeholders.is(origin, first.ino);
    if (
      alone &&
      b?.kind === 'file' &&
      (await renameOnServer(store, server, origin, first.path, b))
    ) {
      // Base has it at its new name now: a placeholder made there, as materialise makes one.
      await placeholders.add(first.path, first.ino);
      await placeholders.removeMoved(first.path);
      out.touched.push(first.path);
      continue;
    }
    let got: { size: number; mtimeNs: bigint };
    try {
      const source = localRangeSource(remoteBuf, localBuf);
      got = (await fetchInPlace(source, ranges, localBuf, first.path, DEFAULT_POLICY, origin))
        .stamp;
    } catch (err) {
      if (!isMissing(err)) throw err;
      const reason = `renamed from ${origin}, which was never fetched and is gone from the server`;
      for (const n of names) {
        await unlink(fsPath(localBuf, n.path)).catch(() => undefined);
        await placeholders.removeMoved(n.path);
        out.touched.push(n.path);
        out.lost.push({ path: n.path, reason });
      }
      continue;
    }
    if (
      b?.kind === 'file' &&
      b.id === undefined &&
      b.size === got.size &&
      closeMtime(b.mtimeNs, got.mtimeNs)
    ) {
      const { id } = await store.putBlobFile(fsPath(localBuf, first.path), got.size);
      learned.push({ path: origin, entry: { ...b, id } });
    }
    filled.push(names);
  }
  // Base first: killed before the records go, the files are filled again, and learnt again.
  if (learned.length > 0) await advanceBaseAt(store, learned);
  for (const names of filled) {
    // Every name of the inode holds the content now, the unmoved one at the origin too.
    await placeholders.removeInode(names[0]!.path);
    await ranges.remove(names[0]!.path);
    out.touched.push(...names.map((n) => n.path));
  }
  return out;
}

/**
 * Rename base's file `from` (entry `b`) to `to` on the server, checked as the engine checks a
 * rename (the source as base has it, the target free), and move base with it. False where it
 * cannot be done so; the caller then fills the placeholder instead.
 */
async function renameOnServer(
  store: Store,
  server: DirReplica,
  from: Path,
  to: Path,
  b: Entry,
): Promise<boolean> {
  const parent = parentOf(to);
  if (parent !== '' && baseAt(store, parent)?.kind !== 'dir') return false;
  const entry = { ...b, name: lastName(to) };
  let done;
  try {
    // (Done already, by a run killed before base followed: the target matches, and that is it.)
    done = await server.rename(from, to, b, entry);
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).code === 'string') return false;
    throw err;
  }
  if (!done.ok) return false;
  await advanceBaseAt(store, [
    { path: from, entry: null },
    { path: to, entry },
  ]);
  return true;
}

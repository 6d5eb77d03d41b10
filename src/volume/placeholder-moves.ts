// Renames and hard links of placeholders, without their content: a rename keeps the inode, so
// a placeholder stays one under its new name, standing for base's content at its origin. The
// records are written in an order that survives a kill at any point (placeholders.ts):
//   1. the new names' records (the inode and origin they will have);
//   2. the rename or link itself;
//   3. the old names' records, and any record of a file the rename replaced, dropped.
// Killed after 1, the new records name a path that is absent or another inode: they count for
// nothing. Killed after 2, the old records name a path that is gone: likewise. Never is a
// placeholder left without a record that names its inode.
import type { Path } from '../merge/plan.js';
import type { Placeholders, PlaceholderRecord } from './placeholders.js';

const renamed = (path: Path, from: Path, to: Path): Path => to + path.slice(from.length);

/** Rename `from` to `to` with `op`, its placeholders' records following it. */
export async function movePlaceholders(
  p: Placeholders,
  from: Path,
  to: Path,
  op: () => Promise<void>,
): Promise<void> {
  if (from === to) return op();
  const moving: PlaceholderRecord[] = [];
  for (const path of new Set(p.under(from))) {
    const r = p.recordNow(path);
    if (r !== undefined) moving.push(r);
  }
  const targets = moving.map((r) => renamed(r.path, from, to));
  const before = await writeMoved(
    p,
    moving.map((r, i) => ({ ...r, path: targets[i]! })),
  );
  try {
    await op();
  } catch (err) {
    await restore(p, before);
    throw err;
  }
  const written = new Set(targets);
  // The file the rename replaced, if it was a placeholder, is gone.
  await p.removeOrigin(to);
  if (!written.has(to)) await p.removeMoved(to);
  await Promise.all(moving.map((r) => p.remove(r.path)));
}

/** Link `to` to `from` with `op`; a placeholder's new name is one too. */
export async function linkPlaceholder(
  p: Placeholders,
  from: Path,
  to: Path,
  op: () => Promise<void>,
): Promise<void> {
  const r = p.recordNow(from);
  if (r === undefined) {
    await op();
    // The new name was free, so a record there is one a move killed midway left (step 1):
    // it must not make this file, which has content, a placeholder.
    await p.remove(to);
    return;
  }
  const before = await writeMoved(p, [{ ...r, path: to }]);
  try {
    await op();
  } catch (err) {
    await restore(p, before);
    throw err;
  }
  await p.removeOrigin(to);
}

type Before = readonly { path: Path; was: PlaceholderRecord | undefined }[];

/** Write moved records (one commit); returns what each key held before. */
async function writeMoved(p: Placeholders, records: readonly PlaceholderRecord[]): Promise<Before> {
  const before = records.map((r) => ({ path: r.path, was: p.movedAt(r.path) }));
  await Promise.all(records.map((r) => p.addMoved(r.path, r.ino, r.origin)));
  return before;
}

/** The operation failed: each key holds what it held before. */
async function restore(p: Placeholders, before: Before): Promise<void> {
  for (const { path, was } of before) {
    if (was === undefined) await p.removeMoved(path);
    else await p.addMoved(path, was.ino, was.origin);
  }
}

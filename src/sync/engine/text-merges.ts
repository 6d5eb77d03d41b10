// Automatic text merges (before the plan is made): a text file edited on both sides in
// regions that do not overlap is merged. A real run writes the result to both replicas
// (guarded like any action) and scans again; a dry run writes nothing and puts the result
// into the scanned trees instead, so it plans what the real run would.
import { TetherError } from '../../errors.js';
import { TreeEditor } from '../../merge/base-update.js';
import type { Conflict, Path, Plan } from '../../merge/plan.js';
import type { ContentSource, Replica } from '../../replica/replica.js';
import { hashBytes, type Hash } from '../../tree/index.js';
import { tryMergeText } from '../automerge.js';
import type { EngineStore } from './ports.js';

/** One conflict that merges cleanly, with the merged content. */
export interface TextMerge {
  readonly conflict: Conflict;
  readonly content: Buffer;
}

/** The plan's edit/edit conflicts whose texts merge cleanly (nothing is written). */
export async function findTextMerges(
  store: EngineStore,
  plan: Plan,
  r: { local: ContentSource; server: ContentSource },
): Promise<TextMerge[]> {
  const out: TextMerge[] = [];
  for (const c of plan.conflicts) {
    if (c.kind !== 'edit/edit' || c.informational) continue;
    const { base, local, server } = c;
    if (base?.kind !== 'file' || local?.kind !== 'file' || server?.kind !== 'file') continue;
    if (base.id === undefined || !store.has(base.id)) continue;
    let texts: [Buffer, Buffer, Buffer];
    try {
      texts = [
        await store.readBlob(base.id),
        await readExact(r.local, c.path, local.id),
        await readExact(r.server, c.path, server.id),
      ];
    } catch {
      continue; // changed since the scan, or unreadable: it stays a conflict
    }
    const merged = tryMergeText(...texts);
    if (merged.merged) out.push({ conflict: c, content: merged.content });
  }
  return out;
}

/**
 * Write each merge to both replicas. Returns the conflicts so resolved (those writes
 * succeeded on both sides).
 */
export async function writeTextMerges(
  store: EngineStore,
  merges: readonly TextMerge[],
  r: { local: Replica; server: Replica },
  mtimeNs: bigint,
): Promise<Conflict[]> {
  const done: Conflict[] = [];
  for (const { conflict: c, content } of merges) {
    const okL = await r.local.writeContent(c.path, c.local!, content, mtimeNs);
    if (!okL.ok) continue;
    const okS = await r.server.writeContent(c.path, c.server!, content, mtimeNs);
    if (!okS.ok) continue; // local has the merge; the next scan sees a local edit vs server's
    await store.putBlob(content);
    done.push(c);
  }
  return done;
}

/**
 * The two scanned trees as they would be after the merges were written: each side's entry
 * with the merged size, mtime and content id (its mode, owner and xattrs kept).
 */
export function mergedTrees(
  store: EngineStore,
  trees: { local: Hash; server: Hash },
  merges: readonly TextMerge[],
  mtimeNs: bigint,
): { local: Hash; server: Hash } {
  const edit = (root: Hash, side: 'local' | 'server'): Hash => {
    if (merges.length === 0) return root;
    const ed = new TreeEditor(store, root);
    for (const { conflict: c, content } of merges) {
      const e = c[side]!;
      const entry = { ...e, size: content.length, mtimeNs, id: hashBytes(content) };
      ed.set({ path: c.path, entry });
    }
    return ed.finish();
  };
  return { local: edit(trees.local, 'local'), server: edit(trees.server, 'server') };
}

async function readExact(r: ContentSource, path: Path, id: Hash | undefined): Promise<Buffer> {
  const data = await r.read(path);
  if (id !== undefined && hashBytes(data) !== id) {
    throw new TetherError('ECHANGED', 'changed since the scan');
  }
  return data;
}

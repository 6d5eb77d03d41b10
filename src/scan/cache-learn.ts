// The scan cache after a scan: its records written once what they vouch for is durable, and
// taught the content ids a tree was completed with after the scan.
import type { Path } from '../merge/plan.js';
import { encodeParts, joinPath, type Hash, type Part } from '../tree/index.js';
import { asBytes, type KvDb } from '../store/kv.js';
import { decodeRecord, encodeRecord, keyOf } from './dir-record.js';
import type { HeldRecords, ScanStore } from './scan-options.js';

/**
 * After a scan, its tree was completed with content ids read since (stamp-only server files
 * hashed where both sides changed, or to pair renames): the cache learns them, so that the next
 * scan, which would lend the same ids from base or the last scan, finds its records whole.
 * Only records that hold the scanned tree are changed; the listing they vouch for is the same.
 */
export async function learnIds(
  store: ScanStore,
  cache: KvDb,
  scanned: Hash,
  completed: Hash,
  held?: HeldRecords,
): Promise<void> {
  const records: [Buffer, Buffer][] = [];
  const visit = (dir: Path, was: Hash, now: Hash): void => {
    if (was === now) return;
    const v = held?.get(keyOf(dir)) ?? asBytes(cache.get(keyOf(dir)));
    const rec = v === undefined ? undefined : decodeRecord(v);
    if (rec === undefined || rec.tree.toString('hex') !== was) return;
    const before = new Map(store.readTree(was).map((e) => [e.name, e]));
    const after = store.readTree(now);
    const d: [string, Buffer, Buffer][] = [];
    // The new tree's parts: its entries where the old tree had its (tree entry k belongs to
    // the k-th listing entry that has one), so the record's spans can be made anew.
    const parts: Part[] = new Array<Part>(rec.spans.length / 2);
    let k = 0;
    for (let i = 0; i < parts.length; i++) if (rec.spans[2 * i + 1] !== 0) parts[i] = after[k++];
    if (k !== after.length) return;
    for (const e of after) {
      const b = before.get(e.name);
      // Only ids may differ: anything else means this is not the tree the record vouches for.
      if (b === undefined || b.kind !== e.kind || b.size !== e.size || b.mtimeNs !== e.mtimeNs) {
        return;
      }
      if (e.kind !== 'dir') continue;
      const child = rec.dirs.find(([name]) => name === e.name);
      if (child === undefined || b.id === undefined || e.id === undefined) return;
      d.push([e.name, Buffer.from(e.id, 'hex'), child[2]]);
      visit(joinPath(dir, e.name), b.id, e.id);
    }
    if (after.length !== before.size) return;
    const enc = encodeParts(parts);
    if (enc.id !== now) return;
    records.push([
      keyOf(dir),
      encodeRecord({ ...rec, tree: Buffer.from(now, 'hex'), dirs: d, spans: enc.spans }),
    ]);
  };
  visit('', scanned, completed);
  if (held !== undefined) for (const [k, v] of records) held.set(k, v);
  else await putRecords(store, cache, records);
}

/**
 * Write cache records only once the trees and blobs they vouch for are durable (a store that
 * can flush does so first): after a power loss a record may be missing, never a file it names.
 */
export async function putRecords(
  store: ScanStore,
  cache: KvDb | undefined,
  records: readonly [Buffer, Buffer][],
): Promise<void> {
  if (cache === undefined || records.length === 0) return;
  await store.flush?.();
  await Promise.all(records.map(([k, v]) => cache.put(k, v)));
}

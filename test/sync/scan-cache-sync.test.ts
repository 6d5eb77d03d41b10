// The scan caches of sync-dirs are only shortcuts: two worlds start from the same replicas,
// get the same random changes on both sides round after round, and sync — one with the scan
// caches, one without. After every round both worlds hold the same files on both sides and
// made the same plan. The changes include same-size edits with the old mtime put back (only
// ctime and the inode tell; on the local side only, see serverChange), renames, new
// directories and removed ones, and metadata.
import test from 'ava';
import fc from 'fast-check';
import { lstatSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Store } from '../../src/store/store.js';
import { runSyncDirs, type SyncSummary } from '../../src/sync/sync-dirs.js';
import { REF_BASE, REF_LOCAL, REF_SERVER } from '../../src/store/kv.js';
import { hashBytes, joinPath } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';
import { applyChange, change, walk, type Change } from '../scan/changes.js';

/** What a replica holds, as text: paths, kinds, modes, contents, file mtimes. */
function holds(root: string): string[] {
  const { files, dirs } = walk(root);
  return [
    ...dirs.slice(1).map((d) => `${relative(root, d)}/ ${lstatSync(d).mode.toString(8)}`),
    ...files.map((f) => {
      const st = lstatSync(f);
      return `${relative(root, f)} ${st.mode.toString(8)} ${st.mtimeMs} ${hashBytes(readFileSync(f))}`;
    }),
  ].sort();
}

/** A plan as text, without directory mtimes (the kernel sets those, differently per world). */
function planText(s: SyncSummary): string {
  return JSON.stringify(
    {
      actions: s.plan.actions,
      conflicts: s.conflicts.map((c) => [c.path, c.kind]),
      applied: s.applied,
      failures: s.failures.length,
    },
    (k, v: unknown) =>
      k === 'mtimeNs' || k === 'id' || k === 'expect'
        ? undefined
        : typeof v === 'bigint'
          ? String(v)
          : v,
  );
}

/** A sync tree as text: file entries whole, directories without mtime and id (see above). */
function treeText(store: Store, ref: string): string[] {
  const out: string[] = [];
  const visit = (id: string, dir: string): void => {
    for (const e of store.readTree(id)) {
      const p = joinPath(dir, e.name);
      const { mtimeNs, id: eid, ...rest } = e;
      out.push(
        `${p} ${JSON.stringify(rest)} ${e.kind === 'dir' ? '' : `${String(mtimeNs)} ${eid ?? 'stamp'}`}`,
      );
      if (e.kind === 'dir' && eid !== undefined) visit(eid, p);
    }
  };
  visit(store.getRef(ref)!, '');
  return out;
}

/**
 * Server changes: all but same-size rewrites with the mtime put back. On the server the last
 * listing is what tells those (by ctime and inode, on a file system that keeps them); without
 * a cache the stamp decides, as DESIGN decision 4 allows, so there the two worlds differ by
 * design (test/sync/stamps.test.ts checks the cached world takes such a rewrite).
 */
const serverChange = change.filter((c) => c.op !== 'same-size');

interface World {
  readonly a: string;
  readonly b: string;
  readonly store: Store;
}

test('property: sync-dirs with scan caches plans and ends exactly as without them', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.tuple(fc.array(change, { maxLength: 3 }), fc.array(serverChange, { maxLength: 3 })),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      async (rounds) => {
        runs++;
        const tmp = tempDir();
        const worlds: World[] = [];
        try {
          for (const name of ['cached', 'uncached']) {
            const a = join(tmp.dir, name, 'A');
            const b = join(tmp.dir, name, 'B');
            for (const r of [a, b]) {
              for (const d of ['x', 'x/y', 'z']) mkdirSync(join(r, d), { recursive: true });
              for (const [i, d] of ['', 'x', 'x', 'x/y', 'z'].entries()) {
                writeFileSync(join(r, d, `f${i}`), `file ${i}`);
                utimesSync(join(r, d, `f${i}`), 1_600_000_000, 1_600_000_000);
              }
            }
            worlds.push({ a, b, store: await Store.create(join(tmp.dir, name, 'store')) });
          }
          let clock = 1_700_000_000_000;
          for (const [round, [local, server]] of [
            [[], []] as [Change[], Change[]],
            ...rounds,
          ].entries()) {
            const now = new Date(1_800_000_000_000 + round * 60_000);
            const seen: string[] = [];
            for (const [i, w] of worlds.entries()) {
              let c = clock;
              // Seconds with digits below the microsecond: a copy's mtime is near, not equal.
              for (const x of local) applyChange(w.a, x, (c += 1000) / 1000 + 0.000_123_457);
              for (const x of server) applyChange(w.b, x, (c += 1000) / 1000 + 0.000_123_457);
              const s = await runSyncDirs(w.store, w.a, w.b, {
                now,
                initial: true,
                scanCache: i === 0,
              });
              seen.push(planText(s));
            }
            clock += 100_000;
            // The records are written with the refs: the root's is there after every run.
            for (const cache of ['sync-local', 'sync-server']) {
              const root = Buffer.from('/');
              t.not(worlds[0]!.store.cacheDb(cache).get(root), undefined, `${cache} kept`);
              t.is(worlds[1]!.store.cacheDb(cache).get(root), undefined, `${cache} not used`);
            }
            t.is(seen[0], seen[1], `round ${round}: the same plan`);
            t.deepEqual(holds(worlds[0]!.a), holds(worlds[1]!.a), `round ${round}: A`);
            t.deepEqual(holds(worlds[0]!.b), holds(worlds[1]!.b), `round ${round}: B`);
            for (const ref of [REF_BASE, REF_LOCAL, REF_SERVER]) {
              t.deepEqual(
                treeText(worlds[0]!.store, ref),
                treeText(worlds[1]!.store, ref),
                `round ${round}: ${ref}`,
              );
            }
          }
        } finally {
          for (const w of worlds) await w.store.close();
          tmp.cleanup();
        }
      },
    ),
    { numRuns: 15, seed: 20261125 },
  );
  t.is(runs, 15);
});

// MERGE.md invariant 1 through real directories, as a property (fast-check, fixed seed): on
// both replicas, rounds of same-size rewrites with the old mtime put back (only ctime and the
// inode tell), swaps of two files' contents, and edits of one file on both sides (conflict
// after conflict on one path). After every sync, every version that differed from base on
// either side is still in the local replica (at its path or as a variant), every variant is
// recorded, none reaches the server, and the two replicas agree on everything else.
import test from 'ava';
import fc from 'fast-check';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { ConflictStore } from '../../src/sync/conflict-store.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { tempDir } from '../cli/run.js';

const FILES = ['f0', 'f1', 'f2', 'f3'];
const OLD = Math.floor(Date.now() / 1000) - 3600;

type Op = { op: 'rewrite'; n: number } | { op: 'swap'; n: number; m: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('rewrite' as const), n: fc.nat(3) }),
  fc.record({ op: fc.constant('swap' as const), n: fc.nat(3), m: fc.nat(3) }),
);

let tag = 0;
/** A new version, always 8 bytes: every file has one size. */
const fresh = (): string => `v${String(++tag).padStart(6, '0')}\n`;

function apply(root: string, o: Op): void {
  const p = (i: number): string => join(root, FILES[i]!);
  if (o.op === 'rewrite') {
    const st = statSync(p(o.n));
    writeFileSync(p(o.n), fresh());
    utimesSync(p(o.n), st.atime, st.mtime); // size and mtime as they were
    return;
  }
  if (o.n === o.m) return;
  const tmp = join(root, 'swap.tmp');
  renameSync(p(o.n), tmp);
  renameSync(p(o.m), p(o.n));
  renameSync(tmp, p(o.m));
}

/** Every regular file's content in a replica, by name. */
function contents(root: string): Map<string, string> {
  return new Map(readdirSync(root).map((n) => [n, readFileSync(join(root, n), 'utf8')]));
}

const isVariant = (n: string): boolean => n.includes('.conflict-local-');

test('property: same-size rewrites, swaps and repeated conflicts lose no version', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.array(op, { maxLength: 3 }), fc.array(op, { maxLength: 3 })), {
        minLength: 1,
        maxLength: 4,
      }),
      async (rounds) => {
        runs++;
        const tmp = tempDir();
        const a = join(tmp.dir, 'A');
        const b = join(tmp.dir, 'B');
        const base = new Map<string, string>();
        for (const f of FILES) base.set(f, fresh());
        for (const r of [a, b]) {
          mkdirSync(r);
          for (const f of FILES) {
            writeFileSync(join(r, f), base.get(f)!);
            utimesSync(join(r, f), OLD, OLD); // one mtime for all: a swap keeps every stamp
          }
        }
        const store = await Store.create(join(tmp.dir, 'store'));
        try {
          await runSyncDirs(store, a, b);
          for (const [round, [local, server]] of rounds.entries()) {
            for (const o of local) apply(a, o);
            for (const o of server) apply(b, o);
            const must = new Set<string>();
            for (const side of [a, b]) {
              for (const [n, text] of contents(side)) {
                if (!isVariant(n) && text !== base.get(n)) must.add(text);
              }
            }
            const s = await runSyncDirs(store, a, b);
            t.is(s.failures.length, 0, `round ${round}: no failure`);
            const inA = contents(a);
            const kept = new Set(inA.values());
            for (const text of must) t.true(kept.has(text), `round ${round}: ${text.trim()} kept`);
            const variants = [...inA.keys()].filter(isVariant).sort();
            const recorded = new ConflictStore(store.db('conflicts'))
              .list()
              .map((c) => c.variantPath)
              .sort();
            t.deepEqual(recorded, variants, `round ${round}: every variant is recorded`);
            const inB = contents(b);
            t.false([...inB.keys()].some(isVariant), `round ${round}: no variant on the server`);
            for (const f of FILES) {
              t.is(inA.get(f), inB.get(f), `round ${round}: ${f} agrees`);
              base.set(f, inB.get(f)!);
            }
          }
        } finally {
          await store.close();
          tmp.cleanup();
        }
      },
    ),
    { numRuns: 12, seed: 20261204 },
  );
  t.is(runs, 12);
});

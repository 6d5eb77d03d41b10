// Skimmed listings kept by a reader's owner (tree/skims.ts): a lookup through them finds what
// the decoding lookup finds, names as bytes included, and the cache forgets on clear and past
// its budget.
import test from 'ava';
import { MemoryStore } from '../../src/store/memory.js';
import {
  hashBytes,
  lookup,
  lookupSkimmed,
  SkimCache,
  type Entry,
  type Hash,
} from '../../src/tree/index.js';

const file = (name: string, body: string): Entry => ({
  name,
  kind: 'file',
  mode: 0o644,
  uid: 1000,
  gid: 1000,
  size: body.length,
  mtimeNs: 1_700_000_000_000_000_000n,
  id: hashBytes(Buffer.from(body)),
});
const dir = (name: string, id: Hash): Entry => ({
  name,
  kind: 'dir',
  mode: 0o755,
  uid: 1000,
  gid: 1000,
  size: 0,
  mtimeNs: 1_700_000_000_000_000_000n,
  id,
});

// Names sorted as bytes: 'B' < 'a' < 'a.txt' < 'z' < 'é' (0xe9 as a byte string).
function sample(store: MemoryStore): Hash {
  const e9 = Buffer.from([0xe9]).toString('latin1');
  const leaf = store.putTree(['B', 'a', 'a.txt', 'z', e9].map((n, i) => file(n, `content ${i}`)));
  const mid = store.putTree([dir('leaf', leaf), file('x', 'x')]);
  return store.putTree([file('a', 'top'), dir('mid', mid), file('zz', 'last')]);
}

const PATHS = [
  'a',
  'zz',
  'mid',
  'mid/x',
  'mid/leaf',
  'mid/leaf/B',
  'mid/leaf/a',
  'mid/leaf/a.txt',
  `mid/leaf/${Buffer.from([0xe9]).toString('latin1')}`,
  'mid/leaf/z',
  'mid/leaf/missing',
  'mid/nothing/a',
  'a/below-a-file',
  'b',
  '',
];

test('a lookup through skimmed listings finds what the decoding lookup finds', (t) => {
  const store = new MemoryStore();
  const root = sample(store);
  for (const p of PATHS) {
    t.deepEqual(lookupSkimmed(store, root, p), lookup(store, root, p), p);
  }
  t.is(lookupSkimmed(store, root, 'mid/leaf/z')?.size, 'content 3'.length);
});

test('a reader without a cache of its own looks up by decoding', (t) => {
  const store = new MemoryStore();
  const root = sample(store);
  const bare = { readTree: (id: Hash) => store.readTree(id) };
  for (const p of PATHS) t.deepEqual(lookupSkimmed(bare, root, p), lookup(store, root, p), p);
});

test('a SkimCache serves a listing again until cleared, and forgets past its budget', (t) => {
  const store = new MemoryStore();
  const root = sample(store);
  let reads = 0;
  const counting = {
    readTree: (id: Hash) => store.readTree(id),
    treeBytes: (id: Hash) => {
      reads++;
      return store.treeBytes(id);
    },
  };
  const cache = new SkimCache();
  const first = cache.get(counting, root);
  t.is(cache.get(counting, root), first);
  t.is(reads, 1);
  cache.clear();
  cache.get(counting, root);
  t.is(reads, 2);
  // A budget of one byte: the next listing empties what is kept first.
  const tiny = new SkimCache(1);
  tiny.get(counting, root);
  const mid = lookup(store, root, 'mid')!.id!;
  tiny.get(counting, mid);
  tiny.get(counting, root);
  t.is(reads, 5);
});

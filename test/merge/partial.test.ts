// Rule P: eviction from the cache, or never having fetched a file, is never a change. An
// entry without a content id compares by its stamp (size, mtime).
import test from 'ava';
import { merge } from '../../src/merge/merge.js';
import { file, MemReader, NOW, T0 } from './helpers.js';

const table: {
  name: string;
  base: ReturnType<typeof file>;
  local: ReturnType<typeof file>;
  server: ReturnType<typeof file>;
  ops: string[];
  conflicts: number;
}[] = [
  {
    name: 'never fetched: base and server know only the stamp, local learned the id',
    base: file('a', { stampOnly: true }),
    local: file('a'),
    server: file('a', { stampOnly: true }),
    ops: [],
    conflicts: 0,
  },
  {
    name: 'evicted locally: local lost the id, the stamp is the same',
    base: file('a'),
    local: file('a', { stampOnly: true }),
    server: file('a'),
    ops: [],
    conflicts: 0,
  },
  {
    name: 'evicted locally while the server edited: the server edit is fetched, no conflict',
    base: file('a'),
    local: file('a', { stampOnly: true }),
    server: file('b', { mtime: T0 + 3n }),
    ops: ['put local'],
    conflicts: 0,
  },
  {
    name: 'never fetched, then a local chmod: only the mode travels',
    base: file('a', { stampOnly: true }),
    local: file('a', { mode: 0o600 }),
    server: file('a', { stampOnly: true }),
    ops: ['setmeta server'],
    conflicts: 0,
  },
];

for (const c of table) {
  test(`partial: ${c.name}`, (t) => {
    const r = new MemReader();
    const plan = merge(
      r,
      r.build({ f: c.base }),
      r.build({ f: c.local }),
      r.build({ f: c.server }),
      { now: NOW },
    );
    t.deepEqual(
      plan.actions.map((a) => `${a.op} ${a.side}`),
      c.ops,
    );
    t.is(plan.conflicts.length, c.conflicts);
  });
}

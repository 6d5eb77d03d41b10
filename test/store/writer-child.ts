// A process that writes to a store as fast as it can until it is killed: blobs small and
// big, trees naming them, and refs naming the trees. The kill -9 test runs it.
import { Store } from '../../src/store/store.js';
import type { Entry } from '../../src/tree/index.js';

const dir = process.argv[2]!;
const store = await Store.openOrCreate(dir);
for (let i = 0; ; i++) {
  const entries: Entry[] = [];
  for (let j = 0; j < 8; j++) {
    const size = j % 4 === 0 ? 100_000 + i : 10 + j;
    const data = Buffer.alloc(size, `${i}:${j}:`);
    const id = await store.putBlob(data);
    entries.push({
      name: `f${j}`,
      kind: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size,
      mtimeNs: BigInt(i),
      id,
    });
  }
  const sub = store.putTree(entries);
  const root = store.putTree([
    { name: 'd', kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: 0n, id: sub },
  ]);
  await store.setRef(`snap/s${i % 5}`, root);
  process.stdout.write(`${i}\n`);
}

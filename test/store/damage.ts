// Damaging a store on purpose: a store with every kind of record, and one flipped byte.
import { closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tether } from '../cli/run.js';

/** A store with a snapshot, sync states, scan caches and a conflict, and its replicas. */
export function makeStore(dir: string): { store: string; a: string; b: string } {
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const store = join(dir, 'S');
  mkdirSync(join(a, 'sub'), { recursive: true });
  mkdirSync(b);
  for (let i = 0; i < 20; i++) writeFileSync(join(a, 'sub', `f${i}.txt`), `file ${i}\n`);
  writeFileSync(join(a, 'big.bin'), Buffer.alloc(300_000, 7));
  const first = tether(['sync-dirs', a, b, '--store', store, '--initial']);
  if (first.status !== 0) throw new Error(first.stderr);
  const snap = tether(['snapshot', 'take', 's', '--of', a, '--store', store]);
  if (snap.status !== 0) throw new Error(snap.stderr);
  // A conflict: its record in the store, its variant in A.
  writeFileSync(join(a, 'sub', 'f1.txt'), 'local edit\n');
  writeFileSync(join(b, 'sub', 'f1.txt'), 'server edit\n');
  const again = tether(['sync-dirs', a, b, '--store', store]);
  if (again.status !== 3) throw new Error(again.stdout + again.stderr);
  return { store, a, b };
}

export function flip(path: string, offset: number, mask = 0xff): void {
  const fd = openSync(path, 'r+');
  try {
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, offset);
    one[0]! ^= mask;
    writeSync(fd, one, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

// kill -9 at any moment: a writer is killed at (seeded) random instants; after each kill the
// store opens, fsck finds nothing wrong, and every ref names a tree whose objects are all there.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsck } from '../../src/store/fsck.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../cli/run.js';

const CHILD = fileURLToPath(new URL('./writer-child.js', import.meta.url));

/** A small seeded generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function runAndKill(dir: string, afterMs: number): Promise<number> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let lines = 0;
  child.stdout.on('data', (b: Buffer) => (lines += b.toString().split('\n').length - 1));
  // Wait until it is writing, then a random moment more.
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (lines > 0) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  await new Promise((r) => setTimeout(r, afterMs));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  return lines;
}

test('the store survives kill -9 at random moments', async (t) => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'store');
  const random = rng(20261125);
  try {
    for (let round = 0; round < 10; round++) {
      const wrote = await runAndKill(dir, Math.floor(random() * 300));
      const s = await Store.open(dir);
      try {
        const report = await fsck(s);
        t.deepEqual(report.problems, [], `round ${round} (after ${wrote} iterations)`);
        t.deepEqual(
          readdirSync(join(dir, 'tmp')),
          [],
          'half-written temp files are cleaned on open',
        );
        const refs = s.listRefs('snap/');
        t.true(refs.length > 0);
        for (const r of refs) {
          const [d] = s.readTree(r.id);
          for (const e of s.readTree(d!.id!)) {
            t.is((await s.readBlob(e.id!)).length, e.size);
          }
        }
      } finally {
        await s.close();
      }
    }
  } finally {
    tmp.cleanup();
  }
});

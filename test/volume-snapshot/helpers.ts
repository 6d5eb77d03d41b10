// What the volume snapshot tests share: a volume of a few directories, a snapshot taken through
// the CLI (its JSON), and a listing of a tree as `find` sees it (kind, mode, size, mtime to the
// microsecond; a directory's mtime left out, as tether's diff leaves it out).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { sh, tetherRun } from '../mount/harness.js';

export function fillRemote(remote: string, files = 30): void {
  for (const d of ['a', 'b', 'b/c']) mkdirSync(join(remote, d), { recursive: true });
  for (let i = 0; i < files; i++) {
    const dir = ['', 'a', 'b', 'b/c'][i % 4] ?? '';
    writeFileSync(join(remote, dir, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  }
}

export interface Taken {
  readonly id: string;
  readonly hashedFiles: number;
  readonly changedPaths: number;
  readonly scanned: boolean;
  readonly files: number;
  readonly mode: string;
  readonly ms: number;
}

export async function take(t: ExecutionContext, name: string, mnt: string): Promise<Taken> {
  const r = await tetherRun(['snapshot', 'take', name, mnt, '--json']);
  t.is(r.status, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as Taken;
}

/** Every path under `dir` with its kind, mode, size and (but for directories) mtime in µs. */
export async function listing(dir: string): Promise<string> {
  const r = await sh(`cd '${dir}' && find . -mindepth 1 -printf '%y %m %s %T@ %p\\n'`, 30_000);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [y, m, s, time, ...p] = l.split(' ');
      const us = y === 'd' ? '-' : (time ?? '').replace(/(\.\d{6})\d*$/, '$1');
      return `${y ?? ''} ${m ?? ''} ${y === 'd' ? '-' : (s ?? '')} ${us} ${p.join(' ')}`;
    })
    .sort()
    .join('\n');
}

/** The same files with the same bytes (diff -r, in a child: one side may be a mount; fifos
 * are left to `listing`, diff cannot compare them). */
export const sameBytes = (a: string, b: string): Promise<{ status: number; stdout: string }> =>
  sh(`diff -r --no-dereference -x p '${a}' '${b}'`, 30_000);

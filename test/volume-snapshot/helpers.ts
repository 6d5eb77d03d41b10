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

/**
 * Every path under `dir` with its kind, mode, size and (but for directories) mtime in ns as
 * `find` prints it (a time set through utimes, a double, may be a microsecond off).
 */
export async function listing(dir: string): Promise<Map<string, { what: string; ns: number }>> {
  const r = await sh(`cd '${dir}' && find . -mindepth 1 -printf '%y %m %s %T@ %p\\n'`, 30_000);
  if (r.status !== 0) throw new Error(r.stderr);
  const out = new Map<string, { what: string; ns: number }>();
  for (const l of r.stdout.split('\n')) {
    if (l === '') continue;
    const [y, m, s, time, ...p] = l.split(' ');
    const what = `${y ?? ''} ${m ?? ''} ${y === 'd' ? '-' : (s ?? '')}`;
    out.set(p.join(' '), { what, ns: y === 'd' ? 0 : Number(time) * 1e9 });
  }
  return out;
}

/** Two listings agree: the same paths, kinds, modes and sizes, mtimes within 3 µs. */
export async function sameListing(t: ExecutionContext, a: string, b: string): Promise<void> {
  const x = await listing(a);
  const y = await listing(b);
  t.deepEqual([...x.keys()].sort(), [...y.keys()].sort(), 'the same paths');
  for (const [p, e] of x) {
    const f = y.get(p);
    t.is(f?.what, e.what, p);
    t.true(Math.abs((f?.ns ?? 0) - e.ns) <= 3000, `${p}: mtime ${e.ns} vs ${String(f?.ns)}`);
  }
}

/** The same files with the same bytes (diff -r, in a child: one side may be a mount; fifos
 * are left to `listing`, diff cannot compare them). */
export const sameBytes = (a: string, b: string): Promise<{ status: number; stdout: string }> =>
  sh(`diff -r --no-dereference -x p '${a}' '${b}'`, 30_000);

// Deterministic example trees for the benchmarks: N files in 20 × 10 directories whose sizes
// (90% small, 10% up to ~128 KiB) add up to a target total, contents drawn from a seeded pool
// behind a unique header (so no two files are equal), all dated in the past so no stamp is
// "racy". Every benchmark that needs a tree uses this one generator.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** A pool of pseudo-random bytes; file contents are slices of it behind a unique header. */
export function makePool(bytes: number, rnd: () => number): Buffer {
  const pool = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) pool.writeUInt32LE((rnd() * 4294967296) >>> 0, i);
  return pool;
}

export function content(pool: Buffer, header: string, size: number, offset: number): Buffer {
  const head = Buffer.from(header + '\n');
  const body = Math.max(0, size - head.length);
  const start = offset % Math.max(1, pool.length - body);
  return Buffer.concat([head, pool.subarray(start, start + body)]);
}

export const OLD_TIME = new Date('2025-01-01T00:00:00Z');

/** Write the tree; returns its file paths relative to the root. */
export function generateTree(
  root: string,
  opts: { files: number; totalBytes: number; pool: Buffer; seed?: number },
): string[] {
  const rnd = mulberry32(opts.seed ?? 1);
  const sizes = Array.from({ length: opts.files }, () =>
    rnd() < 0.9 ? 512 + rnd() * 7680 : 8192 + rnd() * 122_880,
  );
  const scale =
    opts.totalBytes /
    Math.max(
      1,
      sizes.reduce((a, b) => a + b, 0),
    );
  const paths: string[] = [];
  for (let i = 0; i < opts.files; i++) {
    const dir = `d${String(i % 20).padStart(2, '0')}/s${String(Math.floor(i / 20) % 10)}`;
    const path = `${dir}/f${String(i).padStart(6, '0')}.dat`;
    mkdirSync(join(root, dir), { recursive: true });
    const file = join(root, path);
    writeFileSync(file, content(opts.pool, `file ${i}`, Math.round(sizes[i]! * scale), i * 7919));
    utimesSync(file, OLD_TIME, OLD_TIME);
    paths.push(path);
  }
  return paths;
}

/** Rewrite a fraction of the files (new content, same names); returns the paths changed. */
export function mutateTree(
  root: string,
  paths: readonly string[],
  opts: { fraction: number; pool: Buffer; seed?: number },
): string[] {
  const rnd = mulberry32(opts.seed ?? 2);
  const picked = shuffle([...paths], rnd).slice(0, Math.round(paths.length * opts.fraction));
  const when = new Date(OLD_TIME.getTime() + 86_400_000);
  for (const p of picked) {
    const file = join(root, p);
    writeFileSync(
      file,
      content(opts.pool, `edited ${p}`, 1000 + Math.floor(rnd() * 8000), Math.floor(rnd() * 1e9)),
    );
    utimesSync(file, when, when);
  }
  return picked;
}

// A scan's small rules for one leaf (which id a stamp may lend, which mtime an entry takes),
// and the limiter that bounds how many files it reads at once.
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import type { Entry, Hash } from '../tree/index.js';
import { problemError } from './path-problem.js';
import { closeMtime } from './stamp.js';

/** Two leaves that normalize() would take for the same but for their mtimes. */
export function sameLeaf(a: Entry, b: Entry): boolean {
  return (
    a.kind === b.kind &&
    a.size === b.size &&
    a.target === b.target &&
    (a.id === undefined || b.id === undefined || a.id === b.id)
  );
}

/** The id of the first reference entry with the same stamp. */
export function reuse(
  e: Entry,
  refs: readonly (Entry | undefined)[],
  window: bigint,
): Hash | undefined {
  for (const r of refs) {
    if (
      r?.kind === 'file' &&
      r.id !== undefined &&
      r.size === e.size &&
      closeMtime(r.mtimeNs, e.mtimeNs, window)
    ) {
      return r.id;
    }
  }
  return undefined;
}

/** Base's mtime for an entry that equals base but for an mtime inside the window. */
export function normalize(e: Entry, b: Entry, window: bigint): Entry {
  if (e.kind !== b.kind || e.size !== b.size || e.mtimeNs === b.mtimeNs) return e;
  if (!closeMtime(e.mtimeNs, b.mtimeNs, window) || e.target !== b.target) return e;
  if (e.id !== undefined && b.id !== undefined && e.id !== b.id) return e;
  return { ...e, mtimeNs: b.mtimeNs };
}

export async function hashOf(
  path: Path,
  root: string,
  read: () => Promise<Hash>,
  strict: boolean,
): Promise<Hash> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof TetherError) throw err;
    throw problemError(err, path, root, 'read', strict);
  }
}

/** Runs at most `n` tasks at once. */
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Next waiter to wake (a moving head: shift() would make a long queue quadratic). */
  private head = 0;
  constructor(private readonly n: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      if (this.head < this.queue.length) {
        const wake = this.queue[this.head]!;
        this.queue[this.head++] = noop;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
        }
        wake();
      }
    }
  }
}

const noop = (): void => undefined;

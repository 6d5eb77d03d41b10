// What a POSIX case observed, in a form two filesystems can be compared by: each step's value
// or errno code, stat results reduced to what a program may rely on (never inode numbers or
// absolute ctimes, which differ between any two disks; relations between them instead).
import * as fs from 'node:fs';

export type Observed = { step: string; value: unknown } | { step: string; errno: string };

export interface StatSummary {
  type: string;
  perm: string;
  nlink: number;
  size: string;
  uid: number;
  gid: number;
}

const TYPES: [number, string][] = [
  [fs.constants.S_IFREG, 'file'],
  [fs.constants.S_IFDIR, 'dir'],
  [fs.constants.S_IFLNK, 'symlink'],
  [fs.constants.S_IFIFO, 'fifo'],
  [fs.constants.S_IFSOCK, 'socket'],
  [fs.constants.S_IFCHR, 'chardev'],
  [fs.constants.S_IFBLK, 'blockdev'],
];

export function summary(s: fs.BigIntStats): StatSummary {
  const kind = Number(s.mode) & fs.constants.S_IFMT;
  return {
    type: TYPES.find(([k]) => k === kind)?.[1] ?? `0${kind.toString(8)}`,
    perm: (Number(s.mode) & 0o7777).toString(8),
    nlink: Number(s.nlink),
    size: String(s.size),
    uid: Number(s.uid),
    gid: Number(s.gid),
  };
}

/** Microseconds since the epoch, as text: what node:fs and the fixtures keep exactly. */
export function micros(ns: bigint): string {
  return String(ns / 1000n);
}

type PathLike = string | Buffer;

export class Recorder {
  readonly observed: Observed[] = [];

  /** Runs fn, recording its value (through show) or the errno code it failed with. */
  step<T>(step: string, fn: () => T, show: (v: T) => unknown = (v) => v): T | undefined {
    try {
      const v = fn();
      this.observed.push({ step, value: show(v) ?? null });
      return v;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string') throw err;
      this.observed.push({ step, errno: code });
      return undefined;
    }
  }

  /** lstat (or stat) summary of p. */
  stat(step: string, p: PathLike, follow = false): fs.BigIntStats | undefined {
    return this.step(
      step,
      () => (follow ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true })),
      summary,
    );
  }

  /** Whether a and b are the same inode (hard links; an open file and its name). */
  sameInode(step: string, a: PathLike | number, b: PathLike | number): void {
    const ino = (x: PathLike | number): bigint =>
      typeof x === 'number'
        ? fs.fstatSync(x, { bigint: true }).ino
        : fs.lstatSync(x, { bigint: true }).ino;
    this.step(step, () => ino(a) === ino(b));
  }

  /** The directory's names, sorted, as hex where they are not printable ASCII. */
  list(step: string, dir: PathLike): void {
    this.step(step, () =>
      fs
        .readdirSync(dir, { encoding: 'buffer' })
        .map((b) =>
          /^[\x20-\x7e]*$/.test(b.toString('latin1')) ? b.toString() : `0x${b.toString('hex')}`,
        )
        .sort(),
    );
  }

  /** The file's content as text (or its length and a digest for large content). */
  read(step: string, p: PathLike): void {
    this.step(step, () => fs.readFileSync(p).toString('latin1'));
  }
}

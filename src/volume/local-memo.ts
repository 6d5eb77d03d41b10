// The last local tree composed (local-tree.ts), reused while nothing it was made from has
// moved: the same base, the same conflict variants, no path noted since the compose began,
// and every path the compose looked at with the same lstat as then (a file still being
// written through a descriptor noted once is caught here). A stat that changed too soon
// before the compose to vouch for what was read (RACY_NS, as the changed-path list's stamps)
// keeps a tree from being reused at all. So a snapshot taken after the background compose
// (pre-compose.ts) costs an lstat of each path the compose looked at, not a compose.
//
// Those lstats are the snapshot's own work: the paths and the fields they must show again are
// packed when the tree is recorded (in the background), and compared in one native call
// (native/stats.c), where JavaScript paid a BigIntStats object per path.
//
// Only a tree named by REF_VOLUME_LOCAL is reused, and only while the ref still names it: gc
// never frees what a ref reaches.
import type { BigIntStats } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { fsPath, lstatOrNoneSync } from '../scan/fs-entry.js';
import { native } from '../scan/native.js';
import { RACY_NS } from '../scan/stamp.js';
import type { Hash } from '../tree/index.js';

/** Fields per path, as native/stats.c reads them: every field of a node's own a tree records. */
const FIELDS = 8;

/** The fields a later lstat must show again, into `out` at `at` (an absent path: all -1). */
function putFields(st: BigIntStats | undefined, out: BigInt64Array, at: number): void {
  if (st === undefined) {
    out.fill(-1n, at, at + FIELDS);
    return;
  }
  const fields = [st.size, st.mtimeNs, st.ctimeNs, st.ino, st.mode, st.uid, st.gid, st.nlink];
  for (let i = 0; i < FIELDS; i++) out[at + i] = BigInt.asIntN(64, fields[i] ?? 0n);
}

/** The lstats one compose made, and whether each can vouch for what was read after it. */
export class SeenStats {
  readonly stats = new Map<Path, BigIntStats | undefined>();
  vouched = true;

  constructor(private readonly startNs: bigint) {}

  saw(path: Path, st: BigIntStats | undefined): void {
    this.stats.set(path, st);
    if (st !== undefined && st.ctimeNs >= this.startNs - RACY_NS) this.vouched = false;
  }
}

/** Seen paths packed for the check: NUL-terminated paths, and FIELDS expected fields each. */
interface Packed {
  readonly paths: Buffer;
  readonly expected: BigInt64Array;
}

function pack(root: Buffer, seen: SeenStats): Packed {
  const parts: Buffer[] = [];
  const expected = new BigInt64Array(seen.stats.size * FIELDS);
  const nul = Buffer.alloc(1);
  let i = 0;
  for (const [p, st] of seen.stats) {
    parts.push(fsPath(root, p), nul);
    putFields(st, expected, i++ * FIELDS);
  }
  return { paths: Buffer.concat(parts), expected };
}

/** Whether every packed path still has its fields (native/stats.c's statsAlike, else here). */
function statsAlike(p: Packed): boolean {
  if (native?.statsAlike !== undefined) return native.statsAlike(p.paths, p.expected) === -1;
  const now = new BigInt64Array(FIELDS);
  let at = 0;
  for (let i = 0; at < p.paths.length; i++) {
    const end = p.paths.indexOf(0, at);
    let st: BigIntStats | undefined;
    try {
      st = lstatOrNoneSync(p.paths.subarray(at, end));
    } catch {
      return false; // not readable now: compose again, and let that report it
    }
    putFields(st, now, 0);
    for (let f = 0; f < FIELDS; f++) if (now[f] !== p.expected[i * FIELDS + f]) return false;
    at = end + 1;
  }
  return true;
}

interface Composed {
  readonly id: Hash;
  readonly base: Hash;
  readonly seq: number;
  readonly variants: string;
  readonly seen: SeenStats;
}

export class LocalMemo {
  private last: (Composed & { readonly packed: Packed }) | undefined;

  /** A compose of the view at `root` that saw `seen`, from `base` at note `seq`, made `id`. */
  record(root: Buffer, c: Composed): void {
    this.last = c.seen.vouched ? { ...c, packed: pack(root, c.seen) } : undefined;
  }

  forget(): void {
    this.last = undefined;
  }

  /** The tree still true of the view, or undefined. */
  reuse(now: {
    base: Hash;
    seq: number;
    variants: string;
    named: Hash | undefined;
  }): Hash | undefined {
    const c = this.last;
    if (c === undefined) return undefined;
    if (c.base !== now.base || c.seq !== now.seq || c.variants !== now.variants) return undefined;
    if (now.named !== c.id) return undefined;
    return statsAlike(c.packed) ? c.id : undefined;
  }
}

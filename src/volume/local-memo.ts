// The last local tree composed (local-tree.ts), reused while nothing it was made from has
// moved: the same base, the same conflict variants, no path noted since the compose began,
// and every path the compose looked at with the same lstat as then (a file still being
// written through a descriptor noted once is caught here). A stat that changed too soon
// before the compose to vouch for what was read (RACY_NS, as the changed-path list's stamps)
// keeps a tree from being reused at all. So a snapshot taken after the background compose
// (pre-compose.ts) costs an lstat of each changed path, not a compose.
//
// Only a tree named by REF_VOLUME_LOCAL is reused, and only while the ref still names it: gc
// never frees what a ref reaches.
import type { BigIntStats } from 'node:fs';
import type { Path } from '../merge/plan.js';
import { fsPath, lstatOrNoneSync } from '../scan/fs-entry.js';
import { RACY_NS } from '../scan/stamp.js';
import type { Hash } from '../tree/index.js';

/** What a later lstat must show again: every field of a node's own that a tree records. */
function keyOf(st: BigIntStats | undefined): string {
  if (st === undefined) return '';
  return [st.size, st.mtimeNs, st.ctimeNs, st.ino, st.mode, st.uid, st.gid, st.nlink].join(':');
}

/** The lstats one compose made, and whether each can vouch for what was read after it. */
export class SeenStats {
  readonly stats = new Map<Path, string>();
  vouched = true;

  constructor(private readonly startNs: bigint) {}

  saw(path: Path, st: BigIntStats | undefined): void {
    this.stats.set(path, keyOf(st));
    if (st !== undefined && st.ctimeNs >= this.startNs - RACY_NS) this.vouched = false;
  }
}

interface Composed {
  readonly id: Hash;
  readonly base: Hash;
  readonly seq: number;
  readonly variants: string;
  readonly seen: SeenStats;
}

export class LocalMemo {
  private last: Composed | undefined;

  /** A compose that saw `seen`, from `base` at note `seq`, made `id` (named by the ref). */
  record(c: Composed): void {
    this.last = c.seen.vouched ? c : undefined;
  }

  forget(): void {
    this.last = undefined;
  }

  /** The tree still true of the view, or undefined. */
  reuse(
    root: Buffer,
    now: { base: Hash; seq: number; variants: string; named: Hash | undefined },
  ): Hash | undefined {
    const c = this.last;
    if (c === undefined) return undefined;
    if (c.base !== now.base || c.seq !== now.seq || c.variants !== now.variants) return undefined;
    if (now.named !== c.id) return undefined;
    for (const [p, key] of c.seen.stats) {
      if (keyOf(lstatOrNoneSync(fsPath(root, p))) !== key) return undefined;
    }
    return c.id;
  }
}

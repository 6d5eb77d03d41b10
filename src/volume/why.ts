// The last failure on each path, with its tether name (DESIGN decision 7): no errno can be
// invented in userspace, so the mount answers the closest one and `tether why PATH` says which
// condition it stood for.
import type { Path } from '../merge/plan.js';

export type WhyName =
  'EDISCONDATA' | 'EDISCONNECTED' | 'EDISCONPERM' | 'EDISCONFULL' | 'EREMOTE' | 'ESHADOWED';

/** The errno each condition is answered with. */
export const ERRNO_OF: Record<WhyName, string> = {
  EDISCONDATA: 'ENODATA',
  EDISCONNECTED: 'ENOTCONN',
  EDISCONPERM: 'EACCES',
  EDISCONFULL: 'ENOSPC',
  EREMOTE: 'EIO',
  ESHADOWED: 'EROFS',
};

export const MEANING: Record<WhyName, string> = {
  EDISCONDATA: 'the content or listing was never cached, and the volume is offline',
  EDISCONNECTED: 'the operation cannot be emulated offline',
  EDISCONPERM: 'the permission cannot be checked offline',
  EDISCONFULL: 'the cache is full of pinned or dirty data',
  EREMOTE: 'the remote failed while this path was being fetched or written',
  ESHADOWED:
    "the server's own entry of this name is hidden behind tether's read-only .tether directory",
};

export interface WhyRecord {
  readonly name: WhyName;
  readonly errno: string;
  readonly op: string;
  readonly message: string;
  readonly at: number;
}

/** Kept in memory by the daemon: the last failure per path, a bounded number of them. */
export class WhyLog {
  private readonly byPath = new Map<Path, WhyRecord>();

  note(path: Path, name: WhyName, op: string, message: string): WhyRecord {
    const r = { name, errno: ERRNO_OF[name], op, message, at: Date.now() };
    this.byPath.delete(path);
    this.byPath.set(path, r);
    if (this.byPath.size > 10_000) {
      const oldest = this.byPath.keys().next();
      if (oldest.done !== true) this.byPath.delete(oldest.value);
    }
    return r;
  }

  get(path: Path): WhyRecord | undefined {
    return this.byPath.get(path);
  }
}

// Who wants to know when the volume changes its local view underneath the mount: a pull or a
// merge applying server changes, a placeholder fetched, a conflict resolved. The low-level
// FUSE binding listens, and invalidates the kernel's cached entries, attributes and pages of
// exactly those paths, which is what makes its long cache lifetimes correct (DESIGN 18).
import type { Path } from '../merge/plan.js';

export type ViewListener = (path: Path) => void;

export class ViewChanges {
  private readonly listeners = new Set<ViewListener>();

  /** Calls `fn` with every path changed from now on; returns what stops that. */
  on(fn: ViewListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(paths: Iterable<Path>): void {
    if (this.listeners.size === 0) return;
    for (const p of paths) for (const fn of this.listeners) fn(p);
  }
}

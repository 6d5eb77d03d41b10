// What the FUSE handlers need of a volume (DESIGN decision 21): the directory that holds the
// local view, and the few places where the volume must act around a passthrough call. The
// handlers know nothing else of the volume, and nothing of the binding.
import type { Path } from '../merge/plan.js';
import type { ReadCheck } from './checked-reads.js';

export interface VolumeView {
  /** The local view: base ⊕ overlay as a real directory (its inodes are the mount's). */
  readonly root: string;
  /** Make `path`'s content present for an open, truncate or link (fetch a placeholder). */
  present(path: Path, op: string): Promise<void>;
  /**
   * For an open to read only: make `path`'s content present, or, where only some of it can be
   * (a partially fetched file, offline), answer how each read is to be checked.
   */
  presentToRead?(path: Path, op: string): Promise<ReadCheck | undefined>;
  /** Rename `from` to `to` by `op`; placeholders at or under `from` stay placeholders. */
  move(from: Path, to: Path, op: () => Promise<void>): Promise<void>;
  /** Hard-link `to` to `from` by `op`; a placeholder's new name is a placeholder too. */
  link(from: Path, to: Path, op: () => Promise<void>): Promise<void>;
  /** The name `path` no longer holds what it held (unlinked, replaced by a new file). */
  forget(path: Path): Promise<void>;
  /** The file at `path` is being truncated to nothing: no name of it is a placeholder now. */
  emptied(path: Path): Promise<void>;
  /** A write to `path` is about to start (open to write, create, truncate): ENOSPC when the cache has no room. */
  room?(path: Path, op: string): Promise<void>;
  /** Whether a write may start now without `room` (false: room must be made or refused). */
  roomNow?(): boolean;
  /** A write through a descriptor began (a flush waits for its release). */
  writing?(path: Path): void;
  /** A chown of `path` is about to be made (-1: that id unchanged); online, on the server first. */
  owner?(path: Path, uid: number, gid: number): Promise<void>;
  /** Whether `owner` does nothing now (the volume is not online): a chown is the view's alone. */
  ownersLocal?(): boolean;
  /** A mutating operation finished: flush soon. */
  changed(path: Path): void;
  /** Answer once a flush covering every change so far has run (fsync). */
  flush(): Promise<void>;
  /** `user.tether.state` and `user.tether.id` of a path. */
  stateOf(path: Path): Promise<{ state: string; id?: string }>;
}

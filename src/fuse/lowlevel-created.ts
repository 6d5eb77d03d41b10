// Creates the session thread answers itself (native/lowlevel_create.c): a new file in a
// directory it holds a descriptor for (the root's is given it for creates alone) is made,
// stat'ed and handed to the kernel there, with no trip to JavaScript on the way. What
// JavaScript did for such a create comes after, from the created call the session thread
// queues before any later request: the node enters the table under the id set aside for it,
// and the handlers note the new file (`created`: the volume's change list and, online, its
// flush; no placeholder by that name any more). The file is on the local disk before the
// reply, as a create through JavaScript leaves it; what is noted after is what a daemon
// killed in between recovers by its scan (changed-paths.ts).
//
// The session thread makes files only while the handlers say it may (`mayCreate`: the cache
// has room); otherwise each create goes to the handlers' `create`, which makes room or refuses.
import { closeSync, constants, openSync } from 'node:fs';
import type { Caller } from './operations.js';
import { done, mayKeep, O_PATH, type Ctx } from './lowlevel-context.js';
import { fdsOf } from './nodes.js';

/** The longest an invalidation waits for the created calls made before it. */
const HELD_MS = 100;
/** Node ids set aside at a time. */
const BLOCK = 256;
/** Nodes below this id may have a descriptor the session thread answers from (lowlevel.h). */
const NODE_FDS = 1 << 20;

export class DirectCreates {
  /** The first id of the block given last (the session thread starts on it once the one before is used up). */
  private spare = 0;
  private on = false;
  /** Whether the session thread sets owners (setOwners). */
  private owners = false;
  private rootFd = -1;
  /** Created calls handled so far (their nodes are in the table). */
  private seen = 0;
  /** Work held back until the created calls made before it are seen, in order. */
  private readonly held: { readonly upTo: number; readonly run: () => void }[] = [];
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(private readonly c: Ctx) {}

  /** Whether the binding and the handlers can make creates of the session thread's at all. */
  static usable(c: Ctx): boolean {
    return c.root !== undefined && c.session !== undefined && c.h.created !== undefined;
  }

  /**
   * A block of ids (the session thread's spare), the root's descriptor for creates there, and
   * creates on where the handlers allow.
   */
  start(): void {
    this.give();
    this.rootFd = this.openRoot();
    if (this.rootFd >= 0 && this.c.session !== undefined) {
      this.c.addon.setCreates(this.c.session, false, this.c.times.entry, this.rootFd);
    }
    this.refresh();
  }

  /**
   * Creates on or off as the handlers now allow (after anything that changes the cache's use),
   * and owners of the files the session thread serves set there or not (as the volume's mode
   * now has chowns: see Operations.ownersHere).
   */
  refresh(): void {
    const s = this.c.session;
    if (s === undefined) return;
    const owners = this.c.h.ownersHere?.() === true;
    if (owners !== this.owners) {
      this.owners = owners;
      this.c.addon.setOwners(s, owners);
    }
    const want = this.c.h.mayCreate === undefined || this.c.h.mayCreate();
    if (want === this.on) return;
    this.on = want;
    this.c.addon.setCreates(s, want, this.c.times.entry);
  }

  /** Turned off for good (the session is ending). */
  stop(): void {
    if (this.c.session !== undefined && (this.on || this.rootFd >= 0)) {
      this.c.addon.setCreates(this.c.session, false, 0, -1);
    }
    this.on = false;
    if (this.c.session !== undefined && this.owners) this.c.addon.setOwners(this.c.session, false);
    this.owners = false;
    // The session is ending: nothing is left to invalidate.
    this.held.length = 0;
    this.runHeld(false);
    if (this.rootFd >= 0) closeSync(this.rootFd);
    this.rootFd = -1;
  }

  /**
   * The mount's root, for the session thread's creates there (-1: none). Only for creates: the
   * root's lookups stay JavaScript's (its hidden tree is made up there), and the kernel sends
   * a create only after a lookup answered "no such name".
   */
  private openRoot(): number {
    const root = this.c.root;
    if (root === undefined || !mayKeep(this.c, '/') || this.c.times.entry <= 0) return -1;
    try {
      return openSync(root, O_PATH | constants.O_DIRECTORY);
    } catch {
      return -1; // creates in the root go to JavaScript, as before
    }
  }

  /**
   * Runs `work` (an invalidation) once every created call the session thread made before now
   * is handled: a file it made a moment ago is then in the node table, so its node is
   * invalidated (and its descriptor taken back) with its name. Should a call never come (it
   * could not be queued), the work runs after HELD_MS all the same.
   */
  afterCreated(work: () => void): void {
    const s = this.c.session;
    const upTo = s === undefined ? 0 : this.c.addon.createdSent(s);
    if (this.held.length === 0 && upTo <= this.seen) {
      work();
      return;
    }
    this.held.push({ upTo, run: work });
    this.heldTimer ??= setTimeout(() => {
      this.heldTimer = undefined;
      this.runHeld(true);
    }, HELD_MS).unref();
  }

  private runHeld(all: boolean): void {
    while (this.held.length > 0 && (all || this.held[0]!.upTo <= this.seen)) {
      this.held.shift()!.run();
    }
    if (this.held.length === 0 && this.heldTimer !== undefined) {
      clearTimeout(this.heldTimer);
      this.heldTimer = undefined;
    }
  }

  private give(): void {
    if (this.c.session === undefined) return;
    const first = this.c.nodes.reserve(BLOCK);
    if (this.c.addon.giveNodeIds(this.c.session, first, BLOCK)) this.spare = first;
  }

  /**
   * The created call: `fdArg` is the descriptor, or -(fd + 1) where the kernel did not take
   * the reply (the file is there all the same: noted, then closed).
   */
  async created(parent: number, name: Buffer, id: number, ino: number, fdArg: number, who: Caller) {
    const c = this.c;
    // The session thread took its first id of the spare block: give it the next one.
    if (id >= this.spare) this.give();
    const answered = fdArg >= 0;
    const fd = answered ? fdArg : -fdArg - 1;
    const path = c.nodes.childPath(parent, name) ?? null;
    if (answered) {
      const node = c.nodes.adopt(id, parent, name, ino);
      fdsOf(node).add(fd);
      if (id < NODE_FDS) c.nodeFds.set(id, { fd, owned: false });
    }
    this.seen++;
    this.runHeld(false);
    try {
      await done((cb) => {
        c.h.created?.(path, fd, cb, who);
      });
    } finally {
      if (!answered) {
        await done((cb) => {
          c.h.release(path, fd, cb, who);
        }).catch(() => undefined);
      }
      this.refresh();
    }
  }
}

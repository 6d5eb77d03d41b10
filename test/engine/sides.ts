// Two in-memory replicas as the sync engine's sides, over an in-memory store, with a clock the
// test sets.
import { MemoryReplica } from '../../src/replica/memory.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Engine } from '../../src/sync/engine/engine.js';
import type { Clock, Side } from '../../src/sync/engine/ports.js';

export class TestClock implements Clock {
  constructor(public ms = Date.UTC(2026, 0, 2, 3, 4, 5)) {}
  now(): Date {
    return new Date(this.ms);
  }
}

export function memorySide(store: MemoryStore, replica: MemoryReplica): Side {
  return {
    replica,
    where: replica.label,
    scan: (req) => replica.scan(store, req.exclude),
  };
}

export interface MemoryWorld {
  readonly store: MemoryStore;
  readonly local: MemoryReplica;
  readonly server: MemoryReplica;
  readonly clock: TestClock;
  readonly engine: Engine;
}

export function memoryWorld(): MemoryWorld {
  const store = new MemoryStore();
  const local = new MemoryReplica('local');
  const server = new MemoryReplica('server');
  const clock = new TestClock();
  const sides = { local: memorySide(store, local), server: memorySide(store, server) };
  return { store, local, server, clock, engine: { store, sides, clock } };
}

/** Every path of a replica with its content (files) or kind: what a user would see. */
export function view(r: MemoryReplica): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of r.paths()) out[p] = r.content(p)?.toString('utf8') ?? '(dir)';
  return out;
}

// The persisted plan of a run and its progress, in the store's `plans` database: the plan is
// written BEFORE any action runs and each action is marked after it, so a run killed at any
// instant can be finished by the next one (MERGE.md invariant 7). Marks need not be durable
// one by one: an action whose mark was lost is run again, and every replica call answers
// "already done" when its result is in place.
//
// Keys: "plan" → [format, plan, runStart]; "done/<u32 BE index>" → status byte.
// Entries use the canonical tree-entry encoding and conflicts the conflict store's record encoding, so every
// byte of a name, mtime and xattr survives.
import { Packr } from 'msgpackr';
import { TetherError } from '../errors.js';
import type { Action, BaseUpdate, LinkTo, Plan } from '../merge/plan.js';
import { bytesOf, isHash, type Hash } from '../tree/index.js';
import { decodeConflict, encodeConflict } from './conflict-store.js';
import { entryBytes, entryBytesOrNull, RecordFields } from './record-fields.js';
import { asBytes, type KvDb } from '../store/kv.js';

const FORMAT = 1;
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const PLAN_KEY = Buffer.from('plan');
const DONE_PREFIX = 'done/';

export type Status = 'ok' | 'failed';

export interface PendingRun {
  readonly plan: Plan;
  readonly now: Date;
}

function corrupt(why: string): TetherError {
  return new TetherError(
    'ECORRUPT',
    `the interrupted sync plan in the store is damaged (${why}); nothing was applied. Run ` +
      '"tether fsck --repair" on the store to set the plan aside (the next sync plans afresh)',
    { why },
  );
}

const read = new RecordFields(corrupt);

function encodeAction(a: Action): unknown[] {
  switch (a.op) {
    case 'put':
      return [
        a.op,
        a.side,
        bytesOf(a.path),
        entryBytesOrNull(a.expect),
        entryBytes(a.entry),
        a.from,
        bytesOf(a.fromPath),
        ...(a.link === undefined
          ? []
          : [[bytesOf(a.link.to), entryBytes(a.link.expect), a.link.verify === true]]),
      ];
    case 'mkdir':
      return [a.op, a.side, bytesOf(a.path), entryBytes(a.entry)];
    case 'setmeta':
      return [
        a.op,
        a.side,
        bytesOf(a.path),
        entryBytes(a.expect),
        entryBytes(a.entry),
        [...a.fields],
      ];
    case 'delete':
      return [a.op, a.side, bytesOf(a.path), entryBytes(a.expect)];
    case 'rename':
      return [
        a.op,
        a.side,
        bytesOf(a.path),
        bytesOf(a.to),
        entryBytes(a.expect),
        entryBytes(a.entry),
      ];
    case 'variant':
      return [a.op, a.side, bytesOf(a.path), bytesOf(a.variantPath), entryBytes(a.entry)];
  }
}

function linkOf(v: unknown): LinkTo {
  if (!Array.isArray(v) || v.length !== 3 || typeof v[2] !== 'boolean') {
    throw corrupt('bad link of a put');
  }
  const [to, expect, verify] = v as [unknown, unknown, boolean];
  return { to: read.path(to), expect: read.entry(expect), ...(verify ? { verify } : {}) };
}

function decodeAction(r: unknown): Action {
  if (!Array.isArray(r)) throw corrupt('an action is not an array');
  const x = r as unknown[];
  const side = x[1];
  if (side !== 'local' && side !== 'server') throw corrupt('bad side');
  const path = read.path(x[2]);
  switch (x[0]) {
    case 'put': {
      const from = x[5];
      if (from !== 'local' && from !== 'server') throw corrupt('bad source side');
      return {
        op: 'put',
        side,
        path,
        expect: read.entryOrNull(x[3]),
        entry: read.entry(x[4]),
        from,
        fromPath: read.path(x[6]),
        ...(x[7] === undefined ? {} : { link: linkOf(x[7]) }),
      };
    }
    case 'mkdir':
      return { op: 'mkdir', side, path, expect: null, entry: read.entry(x[3]) };
    case 'setmeta':
      return {
        op: 'setmeta',
        side,
        path,
        expect: read.entry(x[3]),
        entry: read.entry(x[4]),
        fields: read.fields(x[5]),
      };
    case 'delete':
      return { op: 'delete', side, path, expect: read.entry(x[3]) };
    case 'rename':
      return {
        op: 'rename',
        side,
        path,
        to: read.path(x[3]),
        expect: read.entry(x[4]),
        entry: read.entry(x[5]),
      };
    case 'variant':
      return { op: 'variant', side, path, variantPath: read.path(x[3]), entry: read.entry(x[4]) };
    default:
      throw corrupt(`unknown action ${String(x[0])}`);
  }
}

export function encodePlan(plan: Plan, now: Date): Buffer {
  return packr.pack([
    FORMAT,
    plan.clean,
    plan.actions.map(encodeAction),
    plan.conflicts.map((c) => encodeConflict(c)),
    plan.baseUpdates.map((u) => [
      bytesOf(u.path),
      entryBytesOrNull(u.entry),
      u.after === undefined ? null : [...u.after],
    ]),
    [plan.from.base, plan.from.local, plan.from.server],
    now.getTime(),
  ]);
}

export function decodePlan(bytes: Buffer): PendingRun {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (err) {
    throw corrupt(`not msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.length !== 7 || raw[0] !== FORMAT) throw corrupt('unknown format');
  const [, clean, actions, conflicts, updates, from, now] = raw as unknown[];
  if (typeof clean !== 'boolean' || !Array.isArray(actions) || !Array.isArray(conflicts)) {
    throw corrupt('bad shape');
  }
  if (!Array.isArray(updates) || !Array.isArray(from) || typeof now !== 'number') {
    throw corrupt('bad shape');
  }
  const baseUpdates: BaseUpdate[] = (updates as unknown[]).map((raw) => {
    if (!Array.isArray(raw)) throw corrupt('a base update is not an array');
    const u = raw as unknown[];
    const after = u[2];
    if (after !== null && !(Array.isArray(after) && after.every((i) => Number.isSafeInteger(i)))) {
      throw corrupt('bad action list of a base update');
    }
    return {
      path: read.path(u[0]),
      entry: read.entryOrNull(u[1]),
      ...(Array.isArray(after) ? { after: after as number[] } : {}),
    };
  });
  const [base, local, server] = from as unknown[];
  const ids = [base, local, server].filter((v): v is Hash => typeof v === 'string' && isHash(v));
  if (ids.length !== 3) throw corrupt('bad tree ids');
  return {
    plan: {
      clean,
      actions: actions.map(decodeAction),
      conflicts: conflicts.map((c) => {
        const b = asBytes(c);
        if (b === undefined) throw corrupt('a conflict is not bytes');
        return decodeConflict(b);
      }),
      baseUpdates,
      from: { base: ids[0]!, local: ids[1]!, server: ids[2]! },
    },
    now: new Date(now),
  };
}

function doneKey(i: number): Buffer {
  const k = Buffer.alloc(DONE_PREFIX.length + 4);
  k.write(DONE_PREFIX, 'latin1');
  k.writeUInt32BE(i, DONE_PREFIX.length);
  return k;
}

export class PlanLog {
  private readonly writes: Promise<boolean>[] = [];

  constructor(private readonly db: KvDb) {}

  /** The interrupted run, if one was persisted and not cleared. */
  pending(): PendingRun | undefined {
    const v = asBytes(this.db.get(PLAN_KEY));
    return v === undefined ? undefined : decodePlan(v);
  }

  /**
   * Persist a plan before acting on it (durable when the promise resolves). Stale marks go
   * first, in the same batch as the plan: its writes are issued before this returns (marks
   * not yet written are waited for first, so that none is left behind), so that writes the
   * caller issues right after (the plan's conflicts) follow them, in the same commit.
   */
  async begin(plan: Plan, now: Date): Promise<void> {
    if (this.writes.length > 0) await this.flush();
    const writes = this.keys().map((k) => this.db.remove(k));
    writes.push(this.db.put(PLAN_KEY, encodePlan(plan, now)));
    await Promise.all(writes);
  }

  /** Statuses recorded so far, by action index. */
  statuses(count: number): (Status | undefined)[] {
    const out: (Status | undefined)[] = new Array<Status | undefined>(count).fill(undefined);
    for (const { key, value } of this.db.getRange({
      start: Buffer.from(DONE_PREFIX, 'latin1'),
      end: Buffer.from('done0', 'latin1'),
    })) {
      const k = asBytes(key);
      const v = asBytes(value);
      if (k === undefined || v === undefined || k.length !== DONE_PREFIX.length + 4) continue;
      const i = k.readUInt32BE(DONE_PREFIX.length);
      if (i < count) out[i] = v[0] === 1 ? 'ok' : 'failed';
    }
    return out;
  }

  /** Mark action `i` (not awaited one by one; see the header). */
  mark(i: number, status: Status): void {
    const write = this.db.put(doneKey(i), Buffer.from([status === 'ok' ? 1 : 0]));
    // Its failure is thrown by flush(); until then it is held, never an unhandled rejection.
    write.catch(() => undefined);
    this.writes.push(write);
  }

  async flush(): Promise<void> {
    await Promise.all(this.writes.splice(0));
  }

  /**
   * Forget the plan and its marks (the run is finished), inside the store's transaction that
   * moves base (so base moves and the plan goes at once). The marks must have been flushed.
   */
  clearSync(): void {
    for (const k of this.keys()) this.db.removeSync(k);
  }

  /** Every key: the plan first, then its marks (stale marks without a plan are harmless). */
  private keys(): Buffer[] {
    const keys: Buffer[] = [];
    let plan = false;
    for (const { key } of this.db.getRange({})) {
      const k = asBytes(key);
      if (k === undefined) continue;
      if (k.equals(PLAN_KEY)) plan = true;
      else keys.push(Buffer.from(k));
    }
    return plan ? [PLAN_KEY, ...keys] : keys;
  }
}

// The volume's event log (DESIGN decision 12): mode changes, syncs with their counts,
// conflicts, data unavailable, hoards. Appended to the store by the daemon (sequence-numbered,
// the last KEEP kept) and read by `tether events`, from the daemon or from the store itself.
import { asBytes, type KvDb } from '../store/kv.js';

export interface VolumeEventRecord {
  readonly seq: number;
  readonly at: string;
  readonly type: string;
  readonly [k: string]: unknown;
}

export const KEEP = 10_000;

const keyOf = (seq: number): Buffer => {
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(BigInt(seq));
  return k;
};

export class EventLog {
  private last: number;
  /** Appends in order, one at a time (each waits for the one before). */
  private chain: Promise<void> = Promise.resolve();
  /** Told of every event as it is recorded (desktop notifications: daemon/notify.ts). */
  onAppend: (e: VolumeEventRecord) => void = () => undefined;

  constructor(
    private readonly db: KvDb,
    private readonly keep = KEEP,
  ) {
    this.last = 0;
    for (const { key } of db.getRange({ reverse: true, limit: 1 })) {
      this.last = Number(asBytes(key)?.readBigUInt64BE(0) ?? 0n);
    }
  }

  /** Record an event now (its sequence number is given at once; the write follows). */
  append(type: string, data: Record<string, unknown> = {}): VolumeEventRecord {
    const seq = ++this.last;
    const e: VolumeEventRecord = { seq, at: new Date().toISOString(), type, ...data };
    this.onAppend(e);
    this.chain = this.chain.then(
      async () => {
        await this.db.put(keyOf(seq), Buffer.from(JSON.stringify(e, jsonSafe)));
        if (seq > this.keep) await this.db.remove(keyOf(seq - this.keep));
      },
      () => undefined,
    );
    return e;
  }

  /** Every kept event after `since` (at most `limit`), oldest first. */
  since(since: number, limit = KEEP): VolumeEventRecord[] {
    const out: VolumeEventRecord[] = [];
    for (const { value } of this.db.getRange({ start: keyOf(since + 1), limit })) {
      const v = asBytes(value);
      if (v !== undefined) out.push(JSON.parse(v.toString()) as VolumeEventRecord);
    }
    return out;
  }

  /** Written everything appended so far. */
  async settled(): Promise<void> {
    await this.chain;
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One line for a person: time, type and what happened. */
export function describeEvent(e: VolumeEventRecord): string {
  const { seq: _seq, at, type, ...rest } = e;
  const parts = Object.entries(rest).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return `${at} ${type}${parts.length > 0 ? ' ' + parts.join(' ') : ''}`;
}

// fsck's pass over the records of the other layers: each one's checksum (checked-db.ts), and
// where the layer that owns it supplies one, a structural check (a plan's paths, a conflict's
// fields). With `repair`, a damaged record is copied to quarantine/ and removed; a damaged
// plan takes its progress marks with it (the next sync plans afresh), and scan caches, which
// are derivable, are dropped whole rather than quarantined.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { display } from '../tree/index.js';
import { openRecord } from './checked-db.js';
import type { Store } from './store.js';

/** A structural check of one record of a database: throws, with a reason, when it is wrong. */
export type RecordCheck = (key: Buffer, value: Buffer) => void;

export interface RecordProblem {
  readonly kind: 'damaged';
  readonly object: string;
  readonly detail: string;
  refs: string[];
  quarantined?: string;
}

const CACHES = 'caches';
/** Databases whose records stand or fall together: one damaged record sets all of them aside. */
const WHOLE = new Set(['plans']);

export async function fsckRecords(
  store: Store,
  checks: Readonly<Record<string, RecordCheck>>,
  repair: boolean,
): Promise<{ records: number; problems: RecordProblem[] }> {
  const problems: RecordProblem[] = [];
  let records = 0;
  for (const name of store.userDbNames()) {
    const bad: { key: Buffer; stored: Buffer; problem: RecordProblem }[] = [];
    const all: { key: Buffer; stored: Buffer }[] = [];
    for (const { key, stored } of store.rawRecords(name)) {
      records++;
      const k = Buffer.from(key);
      const s = Buffer.from(stored);
      all.push({ key: k, stored: s });
      const why = recordProblem(store, name, k, s, checks[name]);
      if (why === undefined) continue;
      const problem: RecordProblem = {
        kind: 'damaged',
        object: `record ${name}/${describeKey(k)}`,
        detail: name === CACHES ? `${why} (a scan cache: rebuilt by the next scans)` : why,
        refs: [],
      };
      problems.push(problem);
      bad.push({ key: k, stored: s, problem });
    }
    if (!repair || bad.length === 0 || name === CACHES) continue;
    const qdir = join(store.dir, 'quarantine');
    const doomed = WHOLE.has(name) ? all : bad;
    for (const [i, r] of doomed.entries()) {
      const dest = join(
        qdir,
        `record-${name}-${Date.now()}-${i}-${r.key.toString('hex').slice(0, 32)}`,
      );
      await writeFile(dest, Buffer.concat([lengthOf(r.key), r.key, r.stored]), { mode: 0o400 });
      await store.dropUserRecord(name, r.key);
      const p = bad.find((b) => b.key.equals(r.key))?.problem;
      if (p !== undefined) p.quarantined = dest;
    }
  }
  return { records, problems };
}

function recordProblem(
  store: Store,
  name: string,
  key: Buffer,
  stored: Buffer,
  check: RecordCheck | undefined,
): string | undefined {
  let value = stored;
  if (store.recordsSealed) {
    const opened = openRecord(key, stored);
    if (opened === undefined) return 'its checksum does not match';
    value = opened;
  }
  if (check === undefined) return undefined;
  try {
    check(key, value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A key as text where it is text, else hex. */
function describeKey(key: Buffer): string {
  const text = key.toString('utf8');
  return /^[\x20-\x7e]*$/.test(text) ? display(text) : key.toString('hex').slice(0, 64);
}

function lengthOf(key: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(key.length);
  return b;
}

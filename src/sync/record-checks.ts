// The sync layer's records, as fsck checks them: each database's records decoded by the same
// code that reads them in a run (so a path that would leave a replica, or a field that is no
// field, is found by fsck before a sync trips on it).
import type { RecordCheck } from '../store/fsck-records.js';
import { byteString, bytesOf } from '../tree/index.js';
import { decodeConflict, decodeResolved } from './conflict-store.js';
import { decodePlan } from './plan-log.js';

const PLAN = 'plan';
const DONE = 'done/';

const plans: RecordCheck = (key, value) => {
  const k = key.toString('latin1');
  if (k === PLAN) {
    decodePlan(value);
    return;
  }
  if (!k.startsWith(DONE) || key.length !== DONE.length + 4) throw new Error('unknown key');
  if (value.length !== 1 || value[0]! > 1) throw new Error('a progress mark is not 0 or 1');
};

const conflicts: RecordCheck = (key, value) => {
  if (key[0] === 0) {
    const c = decodeConflict(value);
    // The path, then (in keys written since a path may hold several) NUL and a u32 number.
    const end = 1 + bytesOf(c.path).length;
    const numbered = key.length === end + 5 && key[end] === 0;
    if (c.path !== byteString(key.subarray(1, end)) || (key.length !== end && !numbered)) {
      throw new Error('the key is not its path');
    }
    return;
  }
  if (key[0] !== 1 || key.length !== 9) throw new Error('unknown key');
  decodeResolved(value);
};

const snapshots: RecordCheck = (key, value) => {
  const info = JSON.parse(value.toString('utf8')) as { name?: unknown };
  if (info.name !== key.toString('utf8')) throw new Error('the label is not of its snapshot');
};

export const SYNC_RECORD_CHECKS: Readonly<Record<string, RecordCheck>> = {
  plans,
  conflicts,
  snapshots,
};

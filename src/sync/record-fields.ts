// The fields the sync layer's stored records share (the conflict records of conflict-store.ts,
// the persisted plan of plan-log.ts), written and read back one way: entries in the canonical
// tree-entry encoding (every byte of a name, mtime and xattr survives), paths as bytes that
// must pass the tree's name rules when read (a tampered record must not reach outside a
// replica), field lists of known fields. A reader throws its own record kind's ECORRUPT.
import type { TetherError } from '../errors.js';
import {
  byteString,
  decodeTree,
  display,
  encodeTree,
  FIELDS,
  unsafePathReason,
  type ByteString,
  type Entry,
  type Field,
} from '../tree/index.js';

/** One entry as stored. */
export const entryBytes = (e: Entry): Buffer => encodeTree([e]);

/** One entry or none (null) as stored. */
export const entryBytesOrNull = (e: Entry | null): Buffer | null =>
  e === null ? null : entryBytes(e);

/** Reads the shared fields back, each failure a `corrupt(why)` of the record's own kind. */
export class RecordFields {
  constructor(private readonly corrupt: (why: string) => TetherError) {}

  /** An entry stored by entryBytes: bytes that decode to exactly one entry. */
  entry(v: unknown): Entry {
    if (!(v instanceof Uint8Array)) throw this.corrupt('an entry is not bytes');
    const [e, ...rest] = decodeTree(v);
    if (e === undefined || rest.length > 0) {
      throw this.corrupt('an entry encodes no single entry');
    }
    return e;
  }

  /** An entry or none (null), as entryBytesOrNull stored it. */
  entryOrNull(v: unknown): Entry | null {
    return v === null ? null : this.entry(v);
  }

  /** A path: bytes (else `notBytes` is the damage), and safe. */
  path(v: unknown, notBytes = 'a path is not bytes'): ByteString {
    if (!(v instanceof Uint8Array)) throw this.corrupt(notBytes);
    const path = byteString(v);
    const why = unsafePathReason(path);
    if (why !== undefined) throw this.corrupt(`the path ${display(path)} is unsafe: ${why}`);
    return path;
  }

  /** A list of known fields. */
  fields(v: unknown): Field[] {
    if (!Array.isArray(v) || !v.every((f) => FIELDS.includes(f as Field))) {
      throw this.corrupt('bad field list');
    }
    return v as Field[];
  }
}

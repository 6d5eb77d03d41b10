// Field-by-field merge of one path present on both sides (MERGE.md rule F). Content (id,
// size, symlink target), mode, uid, gid, rdev and the xattrs are separate fields: a change to
// one never conflicts with a change to another. The same field changed differently on both
// sides is a conflict — a content or type conflict needs a variant (rule V), a metadata one
// keeps the server value. mtime never conflicts: the changed side's, or the newer one wins.
import { sameContent, xattrsEqual, type Entry, type Field } from '../tree/index.js';

export type FieldMerge =
  /** Kinds differ, or contents differ where both sides changed them: a variant is needed. */
  | { readonly kind: 'content-conflict'; readonly field: 'kind' | 'content' }
  /** Merged cleanly, or with `conflicts` (metadata fields) holding the server's value. */
  | {
      readonly kind: 'merged';
      readonly entry: Entry;
      /** Which side the content comes from (where the bytes are copied from). */
      readonly contentFrom: 'local' | 'server';
      readonly conflicts: readonly Field[];
    };

type Meta = 'mode' | 'uid' | 'gid' | 'rdev';

/**
 * Merge `local` and `server` (same name) against `base` (undefined: added on both sides, so
 * every field counts as changed on both). Directories merge their own fields only; their
 * content is their children, merged by the caller.
 */
export function mergeFields(base: Entry | undefined, local: Entry, server: Entry): FieldMerge {
  if (local.kind !== server.kind) return { kind: 'content-conflict', field: 'kind' };
  const b = base !== undefined && base.kind === local.kind ? base : undefined;
  const dir = local.kind === 'dir';

  // Content. A side changed it when it differs from base (stamps compare when an id is
  // unknown); both changed differently is a conflict.
  let contentFrom: 'local' | 'server' = 'server';
  if (!dir) {
    const lc = b === undefined || !sameContent(b, local);
    const sc = b === undefined || !sameContent(b, server);
    if (lc && sc && !sameContent(local, server)) {
      return { kind: 'content-conflict', field: 'content' };
    }
    if (lc && !sc) contentFrom = 'local';
    // Same content on both sides: prefer the side whose content id is known.
    if (lc && sc && server.id === undefined && local.id !== undefined) contentFrom = 'local';
  }
  const from = contentFrom === 'local' ? local : server;
  // The same content known by its stamp on one side and by its id on the other: the entry
  // carries the id, so base learns it (and later scans compare ids, not stamps).
  const contentId = (e: Entry): string | undefined => {
    if (e.id !== undefined || dir) return e.id;
    const other = e === local ? server : local;
    return other.id !== undefined && sameContent(e, other) ? other.id : undefined;
  };

  const conflicts: Field[] = [];
  const pick = <K extends Meta>(k: K): Entry[K] => {
    const lc = b === undefined || b[k] !== local[k];
    const sc = b === undefined || b[k] !== server[k];
    if (lc && sc && local[k] !== server[k]) conflicts.push(k);
    return lc && !sc ? local[k] : server[k];
  };
  const mode = pick('mode');
  const uid = pick('uid');
  const gid = pick('gid');
  const rdev = pick('rdev');

  let xattrs = server.xattrs;
  {
    const lc = b === undefined || !xattrsEqual(b.xattrs, local.xattrs);
    const sc = b === undefined || !xattrsEqual(b.xattrs, server.xattrs);
    if (lc && !sc) xattrs = local.xattrs;
    else if (lc && sc && !xattrsEqual(local.xattrs, server.xattrs)) {
      const merged = mergeXattrs(b?.xattrs, local.xattrs, server.xattrs);
      if (merged.conflict) conflicts.push('xattrs');
      xattrs = merged.xattrs;
    }
  }

  // mtime: the changed side's; both changed: the newer (a touch never conflicts).
  let mtimeNs = from.mtimeNs;
  if (!dir) {
    const lc = b === undefined || b.mtimeNs !== local.mtimeNs;
    const sc = b === undefined || b.mtimeNs !== server.mtimeNs;
    if (lc && !sc) mtimeNs = local.mtimeNs;
    else if (!lc && sc) mtimeNs = server.mtimeNs;
    else if (lc && sc) mtimeNs = local.mtimeNs > server.mtimeNs ? local.mtimeNs : server.mtimeNs;
  } else mtimeNs = server.mtimeNs;

  const entry: Entry = {
    name: server.name,
    kind: server.kind,
    mode,
    uid,
    gid,
    size: from.size,
    mtimeNs,
    ...(dir ? (server.id === undefined ? {} : { id: server.id }) : optional('id', contentId(from))),
    ...optional('target', from.target),
    ...optional('rdev', rdev),
    ...(xattrs === undefined || xattrs.length === 0 ? {} : { xattrs }),
  };
  return { kind: 'merged', entry, contentFrom, conflicts };
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

type Xattrs = Entry['xattrs'];

/**
 * Each xattr key is its own field: keys changed on one side take that side's value (or
 * absence); a key changed differently on both sides keeps the server's and is a conflict.
 */
function mergeXattrs(
  base: Xattrs,
  local: Xattrs,
  server: Xattrs,
): { xattrs: Xattrs; conflict: boolean } {
  const b = new Map((base ?? []).map(([k, v]) => [k, v]));
  const l = new Map((local ?? []).map(([k, v]) => [k, v]));
  const s = new Map((server ?? []).map(([k, v]) => [k, v]));
  const keys = [...new Set([...b.keys(), ...l.keys(), ...s.keys()])].sort((x, y) =>
    x < y ? -1 : x > y ? 1 : 0,
  );
  const eq = (x: Buffer | undefined, y: Buffer | undefined): boolean =>
    x === undefined ? y === undefined : y !== undefined && x.equals(y);
  let conflict = false;
  const out: [string, Buffer][] = [];
  for (const k of keys) {
    const bv = b.get(k);
    const lv = l.get(k);
    const sv = s.get(k);
    const lc = !eq(bv, lv);
    const sc = !eq(bv, sv);
    if (lc && sc && !eq(lv, sv)) conflict = true;
    const v = lc && !sc ? lv : sv;
    if (v !== undefined) out.push([k, v]);
  }
  return { xattrs: out.length === 0 ? undefined : out, conflict };
}

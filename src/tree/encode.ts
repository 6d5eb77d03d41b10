// Canonical tree encoding: plain msgpack (no records, no extensions), one fixed-shape array
// per entry, entries sorted by name bytes. Equal listings therefore have equal bytes, and a
// tree id (BLAKE3 of those bytes) says "this whole subtree is the same".
//
//   tree  = [1, [entry...]]
//   entry = [name: bin, kind: uint, mode, uid, gid, size, mtimeSec: int, mtimeNsec: uint,
//            id: bin32|nil, target: bin|nil, rdev: uint|nil, xattrs: [[bin, bin]...]|nil]
import { Packr } from 'msgpackr';
import { TetherError } from '../errors.js';
import { byteString, bytesOf, display } from './bytes.js';
import { KINDS, type Entry, type Kind, type Tree, type Xattr } from './entry.js';
import { hashBytes, HASH_BYTES, type Hash } from './hash.js';
import { checkName } from './name.js';

const FORMAT = 1;
const NS = 1_000_000_000n;
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  variableMapSize: true,
  int64AsType: 'number',
});
const kindCode = new Map<Kind, number>(KINDS.map((k, i) => [k, i]));

function entryArray(e: Entry): unknown[] {
  const sec = e.mtimeNs >= 0n ? e.mtimeNs / NS : -((-e.mtimeNs + NS - 1n) / NS);
  const nsec = e.mtimeNs - sec * NS;
  return [
    bytesOf(e.name),
    kindCode.get(e.kind),
    e.mode,
    e.uid,
    e.gid,
    e.size,
    Number(sec),
    Number(nsec),
    e.id === undefined ? null : Buffer.from(e.id, 'hex'),
    e.target === undefined ? null : bytesOf(e.target),
    e.rdev ?? null,
    e.xattrs === undefined || e.xattrs.length === 0
      ? null
      : e.xattrs.map(([n, v]) => [bytesOf(n), v]),
  ];
}

/** Sort a listing into canonical order (by name bytes). Does not check names. */
export function sortTree(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Encode a listing that is already sorted; throws if it is not canonical or a name is unsafe. */
export function encodeTree(tree: Tree): Buffer {
  checkCanonical(tree);
  return packr.pack([FORMAT, tree.map(entryArray)]);
}

export function treeIdOf(encoded: Uint8Array): Hash {
  return hashBytes(encoded);
}

function checkCanonical(tree: Tree): void {
  let prev: string | undefined;
  for (const e of tree) {
    checkName(e.name);
    if (prev !== undefined && !(prev < e.name)) {
      throw new TetherError(
        'EBADTREE',
        prev === e.name
          ? `duplicate name ${display(e.name)} in tree`
          : `tree entries out of order at ${display(e.name)}`,
        { name: display(e.name) },
      );
    }
    prev = e.name;
  }
}

function bad(why: string): never {
  throw new TetherError('EBADTREE', `malformed tree encoding: ${why}`);
}

function isBin(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}
function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Decode and validate: rejects unsorted, duplicate and unsafe names and malformed fields. */
export function decodeTree(bytes: Uint8Array): Entry[] {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (err) {
    bad(`not msgpack (${(err as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.length !== 2 || raw[0] !== FORMAT || !Array.isArray(raw[1])) {
    bad('not a tree of format 1');
  }
  const out: Entry[] = [];
  for (const r of raw[1] as unknown[]) {
    if (!Array.isArray(r) || r.length !== 12) bad('entry is not a 12-field array');
    const [name, kc, mode, uid, gid, size, sec, nsec, id, target, rdev, xattrs] = r as unknown[];
    if (!isBin(name)) bad('name is not bytes');
    const kind = KINDS[kc as number];
    if (!isUint(kc) || kind === undefined) bad('unknown kind');
    if (!isUint(mode) || mode > 0o7777) bad('bad mode');
    if (!isUint(uid) || !isUint(gid) || !isUint(size)) bad('bad uid, gid or size');
    if (typeof sec !== 'number' || !Number.isSafeInteger(sec) || !isUint(nsec) || nsec >= 1e9)
      bad('bad mtime');
    if (id !== null && (!isBin(id) || id.length !== HASH_BYTES)) bad('bad id');
    if (target !== null && !isBin(target)) bad('bad symlink target');
    if (rdev !== null && !isUint(rdev)) bad('bad rdev');
    let xs: Xattr[] | undefined;
    if (xattrs !== null) {
      if (!Array.isArray(xattrs) || xattrs.length === 0) bad('bad xattrs');
      xs = (xattrs as unknown[]).map((x) => {
        if (!Array.isArray(x) || x.length !== 2 || !isBin(x[0]) || !isBin(x[1])) bad('bad xattr');
        return [byteString(x[0]), Buffer.from(x[1])] as const;
      });
      for (let i = 1; i < xs.length; i++)
        if (!(xs[i - 1]![0] < xs[i]![0])) bad('xattrs not sorted');
    }
    const e: Entry = {
      name: byteString(name),
      kind,
      mode,
      uid,
      gid,
      size,
      mtimeNs: BigInt(sec) * NS + BigInt(nsec),
      ...(id === null ? {} : { id: Buffer.from(id).toString('hex') }),
      ...(target === null ? {} : { target: byteString(target) }),
      ...(rdev === null ? {} : { rdev }),
      ...(xs === undefined ? {} : { xattrs: xs }),
    };
    out.push(e);
  }
  checkCanonical(out);
  return out;
}

/** Encode a listing and compute its id in one go. */
export function encodeWithId(tree: Tree): { bytes: Buffer; id: Hash } {
  const bytes = encodeTree(tree);
  return { bytes, id: treeIdOf(bytes) };
}

export const EMPTY_TREE_ID: Hash = encodeWithId([]).id;

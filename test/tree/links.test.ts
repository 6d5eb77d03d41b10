// The link-group field of tree entries (entry.ts `link`): trees written before it existed
// decode and hash as they did, an entry with a key encodes as a general msgpack encoder would
// write the 13-element array, and the key is rejected where it would make a second encoding.
import test from 'ava';
import { Packr } from 'msgpackr';
import {
  decodeEntryAt,
  decodeTree,
  encodeParts,
  encodeWithId,
  entriesEqual,
  isStampOnlyFileAt,
  isTetherErrorCode,
  skimEntries,
  type Entry,
} from './helpers.js';

// A tree and its encoding and id as the encoder wrote them before the link field existed.
const OLD_TREE: Entry[] = [
  {
    name: 'a',
    kind: 'file',
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    size: 7,
    mtimeNs: 1_700_000_000_123_456_789n,
    id: 'ab'.repeat(32),
  },
  {
    name: 'd',
    kind: 'dir',
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtimeNs: 1_700_000_000_000_000_000n,
    id: 'cd'.repeat(32),
  },
  { name: 'l', kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 1, mtimeNs: 0n, target: 'a' },
];
const OLD_BYTES = Buffer.from(
  '9201939cc4016100cd01a4cd03e8cd03e807ce6553f100ce075bcd15c420' +
    'ab'.repeat(32) +
    'c0c0c09cc4016401cd01ed000000ce6553f10000c420' +
    'cd'.repeat(32) +
    'c0c0c09cc4016c02cd01ff0000010000c0c40161c0c0',
  'hex',
);
const OLD_ID = 'a6b7139e59fb296b93b61c7c511e5396665abca44b8d9fcad95f733869dbb8eb';

const withLink = (e: Entry, link: string): Entry => ({ ...e, link });

test('a tree written before link keys decodes, and encodes to the same bytes and id', (t) => {
  const back = decodeTree(OLD_BYTES);
  t.is(back.length, 3);
  t.true(back.every((e, i) => entriesEqual(e, OLD_TREE[i]!)));
  t.false('link' in back[0]!, 'no key where none was written');
  const again = encodeWithId(back);
  t.deepEqual(again.bytes, OLD_BYTES);
  t.is(again.id, OLD_ID);
});

test('a link key is a 13th element, as a general msgpack encoder writes it', (t) => {
  const tree = [withLink(OLD_TREE[0]!, 'a'), ...OLD_TREE.slice(1)];
  const { bytes, id } = encodeWithId(tree);
  t.not(id, OLD_ID, 'linked or not: another tree');
  const p = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
  const general = p.unpack(bytes) as [number, unknown[][]];
  t.is(general[1][0]!.length, 13);
  t.deepEqual(general[1][0]![12], Buffer.from('a'));
  t.is(general[1][1]!.length, 12, 'entries without a key keep 12 elements');
  t.true(Buffer.from(p.pack(general)).equals(bytes), 'the bytes a general encoder writes');
  const back = decodeTree(bytes);
  t.is(back[0]!.link, 'a');
  t.true(back.every((e, i) => entriesEqual(e, tree[i]!)));
  t.false(entriesEqual(back[0]!, OLD_TREE[0]!), 'the key is part of equality');
  // The byte-level readers the scan uses see a 13-element entry as an entry.
  const at = skimEntries(bytes);
  t.is(at.length, 12);
  t.deepEqual(decodeEntryAt(bytes, at[0]!, at[1]!), back[0]);
  t.false(isStampOnlyFileAt(bytes, at[0]!));
  const copied = encodeParts([0, 1, 2], {
    bytes,
    spans: Uint32Array.from([at[0]!, at[1]!, at[4]!, at[5]!, at[8]!, at[9]!]),
  });
  t.is(copied.id, id, 'an entry with a key copied as bytes');
});

test('decode rejects a nil or empty key and a key on an entry that is not a file', (t) => {
  const p = new Packr({ useRecords: false });
  const row = (kind: number, link: unknown): unknown[] => [
    Buffer.from('a'),
    kind,
    0o644,
    0,
    0,
    0,
    0,
    0,
    null,
    null,
    null,
    null,
    link,
  ];
  for (const [label, r] of [
    ['nil key', row(0, null)],
    ['empty key', row(0, Buffer.alloc(0))],
    ['key on a directory', row(1, Buffer.from('a'))],
  ] as const) {
    const err = t.throws(() => decodeTree(p.pack([1, [r]])), undefined, label);
    t.true(isTetherErrorCode(err, 'EBADTREE'), label);
  }
  t.is(decodeTree(p.pack([1, [row(0, Buffer.from('x/a'))]]))[0]!.link, 'x/a');
});

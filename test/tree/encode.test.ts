// Canonical encoding: round-trips (names as bytes, every kind and field), rejection of
// non-canonical or unsafe input, and ids that depend on content only.
import test from 'ava';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  decodeEntryAt,
  decodeTree,
  display,
  encodeParts,
  encodeTree,
  encodeWithId,
  EMPTY_TREE_ID,
  entriesEqual,
  entryNameAt,
  isStampOnlyFileAt,
  skimEntries,
  hashBytes,
  isTetherErrorCode,
  sortTree,
  type Entry,
  type Kind,
  type Part,
} from './helpers.js';

const ID = hashBytes(Buffer.from('content'));

function file(name: string, extra: Partial<Entry> = {}): Entry {
  return {
    name,
    kind: 'file',
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    size: 7,
    mtimeNs: 1_700_000_000_123_456_789n,
    id: ID,
    ...extra,
  };
}

test('every kind and field round-trips exactly', (t) => {
  const { id: _unused, ...stampOnly } = file('stamp-only');
  const tree: Entry[] = sortTree([
    file('a.txt'),
    {
      name: 'bin',
      kind: 'dir',
      mode: 0o7755,
      uid: 0,
      gid: 0,
      size: 0,
      mtimeNs: 0n,
      id: EMPTY_TREE_ID,
    },
    {
      name: 'link',
      kind: 'symlink',
      mode: 0o777,
      uid: 0,
      gid: 0,
      size: 6,
      mtimeNs: -1_500_000_001n,
      target: 'a.txt\xff',
    },
    { name: 'fifo', kind: 'fifo', mode: 0o600, uid: 0, gid: 0, size: 0, mtimeNs: 5n },
    { name: 'sock', kind: 'socket', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: 5n },
    {
      name: 'tty',
      kind: 'chardev',
      mode: 0o620,
      uid: 0,
      gid: 5,
      size: 0,
      mtimeNs: 5n,
      rdev: 0x8801,
    },
    {
      name: 'sda',
      kind: 'blockdev',
      mode: 0o660,
      uid: 0,
      gid: 6,
      size: 0,
      mtimeNs: 5n,
      rdev: 0x800,
    },
    file('big', { size: 5 * 2 ** 40 }),
    stampOnly,
    file('x', {
      xattrs: [
        ['user.a', Buffer.from([0, 1, 2])],
        ['user.b', Buffer.alloc(0)],
      ],
    }),
  ]);
  const back = decodeTree(encodeTree(tree));
  t.is(back.length, tree.length);
  for (let i = 0; i < tree.length; i++)
    t.true(entriesEqual(back[i]!, tree[i]!), `entry ${tree[i]!.name}`);
  t.is(back.find((e) => e.name === 'stamp-only')!.id, undefined);
});

test('names that are not UTF-8 round-trip byte for byte and display quoted', (t) => {
  const names = ['caf\xe9', '\xff\xfe', 'ok-\xc3\xa9', '\x01ctl', 'sp ace'];
  const tree = sortTree(names.map((n) => file(n)));
  const back = decodeTree(encodeTree(tree));
  t.deepEqual(
    back.map((e) => e.name),
    tree.map((e) => e.name),
  );
  t.is(display('caf\xe9'), '"caf\\351"');
  t.is(display('ok-\xc3\xa9'), 'ok-é');
  t.is(display('\x01ctl'), '"\\001ctl"');
});

test('the tree id depends on content only, not on the order entries were built in', (t) => {
  const a = encodeWithId(sortTree([file('b'), file('a'), file('c')]));
  const b = encodeWithId(sortTree([file('c'), file('b'), file('a')]));
  t.is(a.id, b.id);
  const c = encodeWithId(sortTree([file('c'), file('b'), file('a', { mode: 0o600 })]));
  t.not(a.id, c.id);
});

const unsafe: [string, string][] = [
  ['empty', ''],
  ['dot', '.'],
  ['dotdot', '..'],
  ['slash', 'a/b'],
  ['nul', 'a\0b'],
];
for (const [label, name] of unsafe) {
  test(`encode and decode reject an unsafe name: ${label}`, (t) => {
    t.true(
      isTetherErrorCode(
        t.throws(() => encodeTree([file(name)])),
        'EBADTREE',
      ),
    );
    // A hand-made encoding with the same name must be rejected when decoded too.
    const raw = new Packr({ useRecords: false }).pack([
      1,
      [[Buffer.from(name, 'latin1'), 0, 0o644, 0, 0, 0, 0, 0, null, null, null, null]],
    ]);
    t.true(
      isTetherErrorCode(
        t.throws(() => decodeTree(raw)),
        'EBADTREE',
      ),
    );
  });
}

test('decode rejects unsorted and duplicate entries', (t) => {
  const row = (n: string) => [Buffer.from(n), 0, 0o644, 0, 0, 0, 0, 0, null, null, null, null];
  const p = new Packr({ useRecords: false });
  t.regex(t.throws(() => decodeTree(p.pack([1, [row('b'), row('a')]]))).message, /out of order/);
  t.regex(t.throws(() => decodeTree(p.pack([1, [row('a'), row('a')]]))).message, /duplicate/);
});

test('decode rejects malformed encodings with a clear error', (t) => {
  const p = new Packr({ useRecords: false });
  const bad: [string, unknown][] = [
    ['not a tree', { a: 1 }],
    ['wrong format', [2, []]],
    ['short entry', [1, [[Buffer.from('a'), 0]]]],
    ['bad kind', [1, [[Buffer.from('a'), 99, 0, 0, 0, 0, 0, 0, null, null, null, null]]]],
    ['bad mode', [1, [[Buffer.from('a'), 0, 0o17777, 0, 0, 0, 0, 0, null, null, null, null]]]],
    ['bad id', [1, [[Buffer.from('a'), 0, 0, 0, 0, 0, 0, 0, Buffer.alloc(5), null, null, null]]]],
    ['bad nsec', [1, [[Buffer.from('a'), 0, 0, 0, 0, 0, 0, 2e9, null, null, null, null]]]],
  ];
  for (const [label, value] of bad) {
    const err = t.throws(() => decodeTree(p.pack(value)), undefined, label);
    t.true(isTetherErrorCode(err, 'EBADTREE'), label);
  }
  t.true(
    isTetherErrorCode(
      t.throws(() => decodeTree(Buffer.from([0xc1]))),
      'EBADTREE',
    ),
  );
});

const kinds: Kind[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'];
const byteName = fc
  .uint8Array({ minLength: 1, maxLength: 12 })
  .map((b) => Buffer.from(b).toString('latin1'))
  .filter((n) => n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0'));
const arbEntry = fc.record({
  name: byteName,
  kind: fc.constantFrom(...kinds),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.nat(),
  gid: fc.nat(),
  size: fc.maxSafeNat(),
  mtimeNs: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
  id: fc.option(
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
    { nil: undefined },
  ),
  target: fc.option(byteName, { nil: undefined }),
  rdev: fc.option(fc.nat(), { nil: undefined }),
});

test('property: decode(encode(tree)) = tree for random trees with byte names', (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(arbEntry, { selector: (e) => e.name, maxLength: 30 }), (raw) => {
      const tree = sortTree(
        raw.map(
          (e) =>
            Object.fromEntries(
              Object.entries(e).filter(([, v]) => v !== undefined),
            ) as unknown as Entry,
        ),
      );
      const { bytes, id } = encodeWithId(tree);
      const back = decodeTree(bytes);
      return (
        back.length === tree.length &&
        back.every((e, i) => entriesEqual(e, tree[i]!)) &&
        encodeWithId(back).id === id
      );
    }),
    { seed: 42, numRuns: 300 },
  );
  t.pass();
});

// The encoder writes msgpack by hand; its bytes (what tree ids are taken of) must be exactly
// what a general msgpack encoder writes for the same arrays, as tree ids made before it and by
// other implementations depend on that.
const reference = new Packr({
  useRecords: false,
  moreTypes: false,
  variableMapSize: true,
  int64AsType: 'number',
});
const NS = 1_000_000_000n;
function referenceBytes(tree: readonly Entry[]): Buffer {
  const kindsCode = new Map(kinds.map((k, i) => [k, i]));
  return reference.pack([
    1,
    tree.map((e) => {
      const sec = e.mtimeNs >= 0n ? e.mtimeNs / NS : -((-e.mtimeNs + NS - 1n) / NS);
      return [
        Buffer.from(e.name, 'latin1'),
        kindsCode.get(e.kind),
        e.mode,
        e.uid,
        e.gid,
        e.size,
        Number(sec),
        Number(e.mtimeNs - sec * NS),
        e.id === undefined ? null : Buffer.from(e.id, 'hex'),
        e.target === undefined ? null : Buffer.from(e.target, 'latin1'),
        e.rdev ?? null,
        e.xattrs === undefined ? null : e.xattrs.map(([n, v]) => [Buffer.from(n, 'latin1'), v]),
      ];
    }),
  ]);
}

test('property: the encoding is byte for byte what a general msgpack encoder writes', (t) => {
  const withXattrs = fc.record({
    entry: arbEntry,
    xattrs: fc.option(
      fc.uniqueArray(
        fc.tuple(
          byteName,
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        ),
        { selector: (x) => x[0], minLength: 1, maxLength: 3 },
      ),
      { nil: undefined },
    ),
    big: fc.constantFrom(
      0,
      0x7f,
      0x80,
      0xff,
      0x100,
      0xffff,
      0x10000,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53 - 1,
    ),
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(withXattrs, { selector: (e) => e.entry.name, maxLength: 20 }),
      (raw) => {
        const tree = sortTree(
          raw.map(({ entry, xattrs, big }) => {
            const e = Object.fromEntries(
              Object.entries({ ...entry, size: big === 0 ? entry.size : big }).filter(
                ([, v]) => v !== undefined,
              ),
            ) as unknown as Entry;
            if (xattrs === undefined) return e;
            return { ...e, xattrs: [...xattrs].sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
          }),
        );
        const mine = encodeTree(tree);
        const theirs = referenceBytes(tree);
        t.deepEqual(mine, theirs);
        const back = decodeTree(theirs);
        return back.length === tree.length && back.every((e, i) => entriesEqual(e, tree[i]!));
      },
    ),
    { seed: 7, numRuns: 400 },
  );
});

// A scan puts a changed directory's tree together from the bytes of its unchanged entries and
// the new ones (encodeParts): the result must be exactly the encoding of the whole tree.
test('property: a tree put together from copied and new parts is the tree encoded whole', (t) => {
  const clean = (e: object): Entry =>
    Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as Entry;
  fc.assert(
    fc.property(
      fc.uniqueArray(arbEntry, { selector: (e) => e.name, maxLength: 40 }),
      fc.array(fc.constantFrom('keep', 'keep', 'change', 'drop', 'gap', 'gone'), {
        minLength: 40,
        maxLength: 40,
      }),
      fc.nat(),
      (raw, fate, size) => {
        const old = sortTree(raw.map(clean));
        // Parts as a listing has them: some names are not in the tree (gaps).
        const oldParts: Part[] = [];
        for (const [i, e] of old.entries()) {
          if (fate[i] === 'gap') oldParts.push(undefined);
          oldParts.push(e);
        }
        const first = encodeParts(oldParts);
        const oldTree = oldParts.filter((p): p is Entry => typeof p === 'object');
        t.deepEqual(first.bytes, encodeTree(oldTree));
        t.is(first.id, encodeWithId(oldTree).id);
        // Each span decodes to its entry.
        oldParts.forEach((p, i) => {
          if (p === undefined) t.is(first.spans[2 * i + 1], 0);
          else
            t.true(
              entriesEqual(
                decodeEntryAt(first.bytes, first.spans[2 * i]!, first.spans[2 * i + 1]!),
                p as Entry,
              ),
            );
        });
        // The next scan: keep (copy by number), change (a new entry), drop (no longer in the
        // tree), gone (no longer listed: the copies around it are not back to back).
        const parts: Part[] = [];
        oldParts.forEach((p, i) => {
          const f = fate[i % fate.length];
          if (f === 'gone') return;
          if (p === undefined || f === 'drop') parts.push(undefined);
          else if (f === 'keep' || f === 'gap') parts.push(i);
          else parts.push({ ...(p as Entry), size: size + i });
        });
        const next = encodeParts(parts, first);
        const nextTree = parts.flatMap((p) =>
          p === undefined ? [] : [typeof p === 'number' ? (oldParts[p] as Entry) : p],
        );
        t.deepEqual(next.bytes, encodeTree(nextTree), 'the same bytes as the whole tree');
        t.deepEqual(decodeTree(next.bytes), decodeTree(encodeTree(nextTree)));
        // And spans of the spliced encoding serve the scan after.
        const again = encodeParts(
          parts.map((p, i) => (p === undefined ? undefined : i)),
          next,
        );
        t.deepEqual(again.bytes, next.bytes);
      },
    ),
    { seed: 7, numRuns: 200 },
  );
});

// A scan compares entries of two trees as bytes (its old tree's and base's), finding them
// by skimming the encoding instead of decoding it.
test('property: skimming a tree finds each entry, its name and whether it is a stamp-only file', (t) => {
  const clean = (e: object): Entry =>
    Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as Entry;
  fc.assert(
    fc.property(fc.uniqueArray(arbEntry, { selector: (e) => e.name, maxLength: 40 }), (raw) => {
      const tree = sortTree(raw.map(clean));
      const whole = encodeParts(tree);
      const at = skimEntries(whole.bytes);
      t.deepEqual(
        at.filter((_, j) => j % 4 < 2),
        whole.spans,
      );
      tree.forEach((e, i) => {
        const start = whole.spans[2 * i]!;
        const [from, to] = entryNameAt(whole.bytes, start);
        t.deepEqual([from, to], [at[4 * i + 2], at[4 * i + 3]]);
        t.is(whole.bytes.toString('latin1', from, to), e.name);
        t.is(isStampOnlyFileAt(whole.bytes, start), e.kind === 'file' && e.id === undefined);
      });
    }),
    { seed: 11, numRuns: 200 },
  );
  t.throws(() => skimEntries(Buffer.concat([encodeTree([file('a')]), Buffer.from([0])])));
  t.throws(() => skimEntries(encodeTree([file('a')]).subarray(0, 20)));
});

test('encodeParts refuses a copied part whose span is not an entry of the tree it names', (t) => {
  const first = encodeParts([file('a'), file('b')]);
  const broken = Uint32Array.from(first.spans);
  broken[0] = broken[0]! + 1;
  const err = t.throws(() => encodeParts([0, 1], { bytes: first.bytes, spans: broken }));
  t.true(isTetherErrorCode(err, 'EBADTREE'));
  const past = Uint32Array.from(first.spans);
  past[3] = first.bytes.length + 10;
  t.throws(() => encodeParts([1], { bytes: first.bytes, spans: past }));
  t.throws(
    () => decodeEntryAt(first.bytes, first.spans[0]!, first.spans[3]!),
    undefined,
    'two entries are not one',
  );
});

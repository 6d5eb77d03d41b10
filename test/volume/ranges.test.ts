// The range map of a partial file (volume/ranges.ts): ranges merge, what is missing is cut
// into aligned requests, a read meets the first gap it touches, and a map survives its
// encoding. Tables of tiny named cases, and properties with a fixed seed.
import test from 'ava';
import fc from 'fast-check';
import {
  decodeMap,
  emptyMap,
  encodeMap,
  firstGap,
  isComplete,
  missingChunks,
  missingRanges,
  presentBytes,
  withRange,
  withoutRange,
  type RangeMap,
} from '../../src/volume/ranges.js';

const MiB = 1 << 20;
const stamp = { size: 10, mtimeNs: 5n };
const mapOf = (size: number, ranges: [number, number][]): RangeMap =>
  ranges.reduce((m, [a, b]) => withRange(m, a, b), emptyMap({ size, mtimeNs: 1n }, 7n));

const merges: { name: string; add: [number, number][]; want: [number, number][] }[] = [
  { name: 'one range', add: [[2, 4]], want: [[2, 4]] },
  {
    name: 'adjacent ranges join',
    add: [
      [0, 2],
      [2, 4],
    ],
    want: [[0, 4]],
  },
  {
    name: 'overlapping ranges join',
    add: [
      [0, 3],
      [2, 5],
    ],
    want: [[0, 5]],
  },
  {
    name: 'disjoint ranges stay apart, sorted',
    add: [
      [6, 8],
      [0, 2],
    ],
    want: [
      [0, 2],
      [6, 8],
    ],
  },
  {
    name: 'a range bridging two joins all three',
    add: [
      [0, 2],
      [6, 8],
      [2, 6],
    ],
    want: [[0, 8]],
  },
  { name: 'an empty range adds nothing', add: [[3, 3]], want: [] },
];
for (const c of merges) {
  test(`withRange: ${c.name}`, (t) => {
    t.deepEqual(mapOf(10, c.add).ranges, c.want);
  });
}

test('missing ranges and completeness', (t) => {
  t.deepEqual(missingRanges(mapOf(10, [])), [[0, 10]]);
  t.deepEqual(
    missingRanges(
      mapOf(10, [
        [2, 4],
        [6, 8],
      ]),
    ),
    [
      [0, 2],
      [4, 6],
      [8, 10],
    ],
  );
  t.deepEqual(missingRanges(mapOf(10, [[0, 10]])), []);
  t.true(
    isComplete(
      mapOf(10, [
        [0, 4],
        [4, 10],
      ]),
    ),
  );
  t.false(isComplete(mapOf(10, [[0, 9]])));
  t.true(isComplete(mapOf(0, [])), 'an empty file is complete at once');
  t.is(
    presentBytes(
      mapOf(10, [
        [2, 4],
        [6, 8],
      ]),
    ),
    4,
  );
});

test('missing chunks are aligned on the chunk size and never longer', (t) => {
  const m = mapOf(3 * MiB + 5, [[MiB / 2, MiB + 10]]);
  t.deepEqual(missingChunks(m, MiB), [
    [0, MiB / 2],
    [MiB + 10, 2 * MiB],
    [2 * MiB, 3 * MiB],
    [3 * MiB, 3 * MiB + 5],
  ]);
});

const gaps: {
  name: string;
  ranges: [number, number][];
  read: [number, number];
  local?: number;
  want: [number, number] | undefined;
}[] = [
  { name: 'inside a range', ranges: [[0, 4]], read: [1, 2], want: undefined },
  {
    name: 'across joined ranges',
    ranges: [
      [0, 4],
      [4, 8],
    ],
    read: [2, 4],
    want: undefined,
  },
  { name: 'starting in a hole', ranges: [[4, 8]], read: [1, 2], want: [1, 4] },
  {
    name: 'running into a hole',
    ranges: [
      [0, 4],
      [6, 8],
    ],
    read: [2, 4],
    want: [4, 6],
  },
  { name: 'past the end of file is no hole', ranges: [[0, 10]], read: [8, 100], want: undefined },
  { name: 'an empty read', ranges: [], read: [3, 0], want: undefined },
  {
    name: 'bytes the local file has past the server size',
    ranges: [[0, 10]],
    read: [8, 100],
    local: 12,
    want: [10, 12],
  },
  { name: 'a last hole to the end', ranges: [[0, 4]], read: [0, 10], want: [4, 10] },
];
for (const c of gaps) {
  test(`firstGap: ${c.name}`, (t) => {
    t.deepEqual(firstGap(mapOf(10, c.ranges), c.read[0], c.read[1], c.local ?? 10), c.want);
  });
}

test('a map survives its encoding, and a truncated record is none', (t) => {
  const m = withRange(withRange(emptyMap(stamp, 1n << 60n), 0, 3), 5, 7);
  const b = encodeMap(m);
  t.deepEqual(decodeMap(b)?.map, m);
  t.is(decodeMap(Buffer.concat([b, Buffer.from('a/path')]))?.length, b.length);
  t.is(decodeMap(b.subarray(0, b.length - 1)), undefined);
});

test('property: adding ranges in any order gives one map, and what is present is their union', (t) => {
  const size = 64;
  const range = fc
    .tuple(fc.nat(size), fc.nat(size))
    .map(([a, b]): [number, number] => [Math.min(a, b), Math.max(a, b)]);
  fc.assert(
    fc.property(fc.array(range, { maxLength: 12 }), (rs) => {
      const m = mapOf(size, rs);
      const reversed = mapOf(size, [...rs].reverse());
      t.deepEqual(m.ranges, reversed.ranges);
      const want = new Set<number>();
      for (const [a, b] of rs) for (let i = a; i < b; i++) want.add(i);
      t.is(presentBytes(m), want.size);
      for (let i = 0; i < size; i++) {
        t.is(firstGap(m, i, 1, size) === undefined, want.has(i), `byte ${String(i)}`);
      }
      const holes = missingRanges(m).reduce((n, [a, b]) => n + b - a, 0);
      t.is(holes + want.size, size);
    }),
    { seed: 16, numRuns: 200 },
  );
});

test('property: a range taken out is missing again, and only it', (t) => {
  const size = 40;
  const range = fc
    .tuple(fc.nat({ max: size }), fc.nat({ max: size }))
    .map(([a, b]): [number, number] => [Math.min(a, b), Math.max(a, b)]);
  fc.assert(
    fc.property(fc.array(range, { maxLength: 8 }), range, (rs, [s, e]) => {
      const before = mapOf(size, rs);
      const m = withoutRange(before, s, e);
      for (let i = 0; i < size; i++) {
        const want = i >= s && i < e ? false : firstGap(before, i, 1, size) === undefined;
        t.is(firstGap(m, i, 1, size) === undefined, want, `byte ${String(i)}`);
      }
      // Still sorted, disjoint and not adjacent: adding the range back gives the union.
      t.deepEqual(withRange(m, s, e).ranges, withRange(before, s, e).ranges);
    }),
    { seed: 16, numRuns: 200 },
  );
});

// Three-way text merge: named tiny fixtures (base, local, server → merged text or no merge, and
// why), and fast-check properties (fixed seed) over edit scripts on distinct lines: edits that
// leave an unchanged line between them always merge to both edits applied; the same line
// edited differently never merges; the result does not depend on which side is which.
import test from 'ava';
import fc from 'fast-check';
import { mergeText, splitLines, tryMergeText } from '../../src/sync/automerge.js';

const SEED = 20260102;
const b = (s: string) => Buffer.from(s, 'utf8');

interface Case {
  readonly name: string;
  readonly base: string | Buffer;
  readonly local: string | Buffer;
  readonly server: string | Buffer;
  /** Expected merged text, or the reason there is none. */
  readonly expect: string | { none: 'binary' | 'overlap' | 'too-large' };
}

const cases: Case[] = [
  // Non-overlapping edits merge.
  {
    name: 'edits far apart',
    base: 'a\nb\nc\nd\ne\n',
    local: 'A\nb\nc\nd\ne\n',
    server: 'a\nb\nc\nd\nE\n',
    expect: 'A\nb\nc\nd\nE\n',
  },
  {
    name: 'edits separated by one unchanged line',
    base: 'a\nb\nc\n',
    local: 'A\nb\nc\n',
    server: 'a\nb\nC\n',
    expect: 'A\nb\nC\n',
  },
  {
    name: 'insert on one side, delete on the other',
    base: 'a\nb\nc\nd\n',
    local: 'a\nnew\nb\nc\nd\n',
    server: 'a\nb\nc\n',
    expect: 'a\nnew\nb\nc\n',
  },
  {
    name: 'append on one side, prepend on the other',
    base: 'x\ny\n',
    local: 'x\ny\nz\n',
    server: 'w\nx\ny\n',
    expect: 'w\nx\ny\nz\n',
  },
  {
    name: 'the same change on both sides plus one more each',
    base: 'a\nb\nc\nd\ne\n',
    local: 'A\nb\nC\nd\ne\n',
    server: 'a\nb\nC\nd\nE\n',
    expect: 'A\nb\nC\nd\nE\n',
  },
  // Line endings and final newline kept exactly.
  {
    name: 'CRLF lines stay CRLF',
    base: 'a\r\nb\r\nc\r\n',
    local: 'A\r\nb\r\nc\r\n',
    server: 'a\r\nb\r\nC\r\n',
    expect: 'A\r\nb\r\nC\r\n',
  },
  {
    name: 'mixed endings kept line by line',
    base: 'a\r\nb\nc\rd\n',
    local: 'A\r\nb\nc\rd\n',
    server: 'a\r\nb\nc\rD\n',
    expect: 'A\r\nb\nc\rD\n',
  },
  {
    name: 'missing final newline kept',
    base: 'a\nb\nc',
    local: 'A\nb\nc',
    server: 'a\nb\nC',
    expect: 'A\nb\nC',
  },
  {
    name: 'final newline added on one side, first line edited on the other',
    base: 'a\nb\nc',
    local: 'A\nb\nc',
    server: 'a\nb\nc\n',
    expect: 'A\nb\nc\n',
  },
  {
    name: 'non-ASCII UTF-8 text',
    base: 'café\nß\nnaïve\n',
    local: 'CAFÉ\nß\nnaïve\n',
    server: 'café\nß\nnaïf\n',
    expect: 'CAFÉ\nß\nnaïf\n',
  },
  // Trivial and idempotent cases.
  { name: 'nothing changed', base: 'a\n', local: 'a\n', server: 'a\n', expect: 'a\n' },
  { name: 'only local changed', base: 'a\n', local: 'b\n', server: 'a\n', expect: 'b\n' },
  { name: 'only server changed', base: 'a\n', local: 'a\n', server: 'b\n', expect: 'b\n' },
  { name: 'same change on both sides', base: 'a\n', local: 'b\n', server: 'b\n', expect: 'b\n' },
  { name: 'all empty', base: '', local: '', server: '', expect: '' },
  { name: 'both add to an empty base', base: '', local: 'x\n', server: 'x\n', expect: 'x\n' },
  // Overlapping edits do not merge.
  {
    name: 'same line changed differently',
    base: 'a\nb\nc\n',
    local: 'a\nB1\nc\n',
    server: 'a\nB2\nc\n',
    expect: { none: 'overlap' },
  },
  {
    name: 'adjacent lines changed',
    base: 'a\nb\nc\nd\n',
    local: 'a\nB\nc\nd\n',
    server: 'a\nb\nC\nd\n',
    expect: { none: 'overlap' },
  },
  {
    name: 'different inserts at the same place',
    base: 'a\nb\n',
    local: 'a\nx\nb\n',
    server: 'a\ny\nb\n',
    expect: { none: 'overlap' },
  },
  {
    name: 'delete on one side, edit of the same line on the other',
    base: 'a\nb\nc\n',
    local: 'a\nc\n',
    server: 'a\nB\nc\n',
    expect: { none: 'overlap' },
  },
  {
    name: 'both add different content to an empty base',
    base: '',
    local: 'x\n',
    server: 'y\n',
    expect: { none: 'overlap' },
  },
  {
    name: 'line endings converted on one side, a line edited on the other',
    base: 'a\nb\nc\n',
    local: 'a\r\nb\r\nc\r\n',
    server: 'a\nB\nc\n',
    expect: { none: 'overlap' },
  },
  {
    name: 'final newline added on one side, last line edited on the other',
    base: 'a\nb\nc',
    local: 'a\nb\nc\n',
    server: 'a\nb\nC',
    expect: { none: 'overlap' },
  },
  // Binary never merges, even when the change would be trivial.
  {
    name: 'NUL byte in local',
    base: 'a\nb\nc\n',
    local: 'a\0\nb\nc\n',
    server: 'a\nb\nC\n',
    expect: { none: 'binary' },
  },
  {
    name: 'NUL byte in base only',
    base: 'a\0\nb\nc\n',
    local: 'A\nb\nc\n',
    server: 'a\nb\nC\n',
    expect: { none: 'binary' },
  },
  {
    name: 'invalid UTF-8 on the server',
    base: 'a\nb\nc\n',
    local: 'A\nb\nc\n',
    server: Buffer.from([0x61, 0x0a, 0x62, 0x0a, 0xff, 0xfe, 0x0a]),
    expect: { none: 'binary' },
  },
  {
    name: 'binary even when only one side changed',
    base: Buffer.from([0, 1, 2]),
    local: Buffer.from([0, 1, 2]),
    server: Buffer.from([0, 1, 3]),
    expect: { none: 'binary' },
  },
];

for (const c of cases) {
  test(`merge: ${c.name}`, (t) => {
    const [o, l, s] = [c.base, c.local, c.server].map((x) => (typeof x === 'string' ? b(x) : x));
    const out = tryMergeText(o!, l!, s!);
    if (typeof c.expect === 'string') {
      t.true(out.merged, JSON.stringify(out));
      if (out.merged) t.is(out.content.toString('utf8'), c.expect);
      // Swapping the sides gives the same merge.
      t.is(mergeText(o!, s!, l!)?.toString('utf8'), c.expect);
    } else {
      t.deepEqual(out, { merged: false, reason: c.expect.none });
      t.is(mergeText(o!, s!, l!), null);
    }
  });
}

test('size limit: a file over the limit is not merged, under it is', (t) => {
  const base = b('a\nb\nc\n');
  const local = b('A\nb\nc\n');
  const server = b('a\nb\nC\n');
  t.deepEqual(tryMergeText(base, local, server, { maxBytes: 5 }), {
    merged: false,
    reason: 'too-large',
  });
  t.is(mergeText(base, local, server, { maxBytes: 6 })?.toString(), 'A\nb\nC\n');
});

test('splitLines keeps every byte', (t) => {
  for (const s of ['', 'a', 'a\n', '\n\n', 'a\r\nb\rc\nd', '\r\n\r', 'x\n\ry']) {
    t.is(splitLines(b(s)).join(''), s, JSON.stringify(s));
  }
  t.deepEqual(splitLines(b('a\r\nb\rc\nd')), ['a\r\n', 'b\r', 'c\n', 'd']);
});

// --- properties -------------------------------------------------------------------------

/** A base of distinct lines, and an edit per line: keep, replace, delete, or insert before. */
type Op = 'keep' | 'replace' | 'delete' | 'insert';
const opArb = fc.constantFrom<Op>('keep', 'keep', 'keep', 'replace', 'delete', 'insert');
const eolArb = fc.constantFrom('\n', '\r\n');

function editLine(line: string, i: number, op: Op, tag: string): string[] {
  const eol = line.endsWith('\r\n') ? '\r\n' : '\n';
  switch (op) {
    case 'keep':
      return [line];
    case 'replace':
      return [`${tag}-rep-${i}${eol}`];
    case 'delete':
      return [];
    case 'insert':
      return [`${tag}-ins-${i}${eol}`, line];
  }
}

function applyOps(base: string[], ops: readonly Op[], tag: string): string[] {
  return base.flatMap((line, i) => editLine(line, i, ops[i] ?? 'keep', tag));
}

const scriptArb = fc
  .record({ n: fc.integer({ min: 1, max: 30 }), eol: eolArb, finalNewline: fc.boolean() })
  .chain(({ n, eol, finalNewline }) =>
    fc.record({
      base: fc.constant(
        Array.from({ length: n }, (_, i) => `line ${i}${i < n - 1 || finalNewline ? eol : ''}`),
      ),
      local: fc.array(opArb, { minLength: n, maxLength: n }),
      server: fc.array(opArb, { minLength: n, maxLength: n }),
    }),
  );

/** Edits on the two sides are separated: no line touched by both, nor by neighbours. */
function separated(l: readonly Op[], s: readonly Op[]): boolean {
  const touched = (ops: readonly Op[]) => ops.map((o) => o !== 'keep');
  const tl = touched(l);
  const ts = touched(s);
  for (let i = 0; i < tl.length; i++) {
    if (!tl[i]) continue;
    for (let j = Math.max(0, i - 1); j <= i + 1; j++) if (ts[j]) return false;
  }
  return true;
}

test('property: separated edits merge to both edits applied, whichever side is which', (t) => {
  fc.assert(
    fc.property(scriptArb, ({ base, local, server }) => {
      fc.pre(separated(local, server));
      const o = base.join('');
      const l = applyOps(base, local, 'L').join('');
      const s = applyOps(base, server, 'S').join('');
      // Both scripts at once: each line as the side that touched it left it.
      const expected = base
        .flatMap((line, i) =>
          local[i] !== 'keep'
            ? editLine(line, i, local[i]!, 'L')
            : editLine(line, i, server[i]!, 'S'),
        )
        .join('');
      const m1 = mergeText(b(o), b(l), b(s));
      const m2 = mergeText(b(o), b(s), b(l));
      return m1?.toString() === expected && m2?.toString() === expected;
    }),
    { seed: SEED, numRuns: 300 },
  );
  t.pass();
});

test('property: the same line replaced differently on both sides never merges', (t) => {
  fc.assert(
    fc.property(scriptArb, fc.nat(), ({ base, local, server }, k) => {
      const i = k % base.length;
      const l = applyOps(base, local.with(i, 'replace'), 'L').join('');
      const s = applyOps(base, server.with(i, 'replace'), 'S').join('');
      return mergeText(b(base.join('')), b(l), b(s)) === null;
    }),
    { seed: SEED, numRuns: 300 },
  );
  t.pass();
});

test('property: one side unchanged or both equal gives the changed side (idempotence)', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (o, x) => {
      fc.pre(!o.includes('\0') && !x.includes('\0'));
      const [bo, bx] = [b(o), b(x)];
      return (
        mergeText(bo, bx, bo)?.equals(bx) === true &&
        mergeText(bo, bo, bx)?.equals(bx) === true &&
        mergeText(bo, bx, bx)?.equals(bx) === true
      );
    }),
    { seed: SEED, numRuns: 300 },
  );
  t.pass();
});

test('property: merging again after the merge landed on one side gives the same merge', (t) => {
  fc.assert(
    fc.property(scriptArb, ({ base, local, server }) => {
      fc.pre(separated(local, server));
      const o = b(base.join(''));
      const l = b(applyOps(base, local, 'L').join(''));
      const s = b(applyOps(base, server, 'S').join(''));
      const m = mergeText(o, l, s);
      if (m === null) return false;
      // The merge already landed on one side (a re-run before the other side saw it): merging
      // again gives the same result; and with base advanced to it, it stays.
      return (
        mergeText(o, m, s)?.equals(m) === true &&
        mergeText(o, l, m)?.equals(m) === true &&
        mergeText(m, m, m)?.equals(m) === true
      );
    }),
    { seed: SEED, numRuns: 200 },
  );
  t.pass();
});

test('property: any NUL byte anywhere means no merge', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.string(), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: 0, max: 2 }),
      (texts, which) => {
        const bufs = texts.map((x, i) => b(i === which ? x + '\0' : x));
        return mergeText(bufs[0]!, bufs[1]!, bufs[2]!) === null;
      },
    ),
    { seed: SEED, numRuns: 200 },
  );
  t.pass();
});

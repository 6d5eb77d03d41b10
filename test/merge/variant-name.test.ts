// Variant names (DESIGN.md item 9): exact format, extensions, leading dots, collisions, byte
// names, parse round trip.
import test from 'ava';
import fc from 'fast-check';
import {
  NAME_MAX,
  parseVariantName,
  pickVariantName,
  splitExt,
  variantName,
} from '../../src/merge/variant-name.js';
import { isTetherError } from '../../src/errors.js';
import { bytesOf, fromText, hashBytes } from '../../src/tree/index.js';
import { NOW, scenario } from './helpers.js';

const ID = 'deadbeef' + '0'.repeat(56);

const names: [string, string, string][] = [
  ['plain extension', 'report.txt', 'report.conflict-local-20260102T030405Z-deadbeef.txt'],
  ['no extension', 'Makefile', 'Makefile.conflict-local-20260102T030405Z-deadbeef'],
  ['last dot is the extension', 'a.tar.gz', 'a.tar.conflict-local-20260102T030405Z-deadbeef.gz'],
  ['leading dot: no extension', '.bashrc', '.bashrc.conflict-local-20260102T030405Z-deadbeef'],
  [
    'leading dot with a later dot: still none',
    '.config.json',
    '.config.json.conflict-local-20260102T030405Z-deadbeef',
  ],
  ['trailing dot: no extension', 'odd.', 'odd..conflict-local-20260102T030405Z-deadbeef'],
];
for (const [label, name, want] of names) {
  test(`variant name: ${label}`, (t) => {
    const got = variantName(name, NOW, ID);
    t.is(got, want);
    const p = parseVariantName(got);
    t.truthy(p);
    t.is(p!.stem + p!.ext, name);
    t.is(p!.h8, 'deadbeef');
    t.is(p!.n, 1);
    t.is(p!.time.toISOString(), '2026-01-02T03:04:05.000Z');
  });
}

test('variant name: collisions add -2, -3 before the extension', (t) => {
  const taken = new Set([
    'r.conflict-local-20260102T030405Z-deadbeef.txt',
    'r.conflict-local-20260102T030405Z-deadbeef-2.txt',
  ]);
  const got = pickVariantName('r.txt', NOW, ID, (c) => taken.has(c));
  t.is(got, 'r.conflict-local-20260102T030405Z-deadbeef-3.txt');
  t.is(parseVariantName(got)?.n, 3);
});

test('variant name: names that are not variants parse to undefined', (t) => {
  for (const n of [
    'report.txt',
    'x.conflict-local-2026-deadbeef',
    'x.conflict-local-20260102T030405Z-DEADBEEF',
    'x.conflict-local-20260102T030405Z-deadbeef-1',
    'x.conflict-local-20261399T030405Z-deadbeef',
  ]) {
    t.is(parseVariantName(n), undefined, n);
  }
});

test('variant name: non-UTF-8 bytes survive exactly', (t) => {
  const name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]).toString('latin1');
  const got = variantName(name, NOW, ID);
  t.true(
    bytesOf(got)
      .subarray(0, 4)
      .equals(Buffer.from([0x63, 0x61, 0x66, 0xe9])),
  );
  t.is(parseVariantName(got)?.stem, name.slice(0, 4));
  t.is(parseVariantName(got)?.ext, '.txt');
});

test('variant name: a long name is cut to NAME_MAX, never inside a UTF-8 sequence', (t) => {
  const name = fromText('é'.repeat(200) + '.txt');
  const got = variantName(name, NOW, ID);
  t.true(got.length <= NAME_MAX);
  t.true(Buffer.from(bytesOf(got).toString('utf8'), 'utf8').equals(bytesOf(got)), 'valid UTF-8');
  t.true(got.endsWith('.txt'));
});

test('variant name: bad inputs are usage errors', (t) => {
  t.true(
    isTetherError(
      t.throws(() => variantName('f', NOW, 'xyz')),
      'EUSAGE',
    ),
  );
  t.true(
    isTetherError(
      t.throws(() => variantName('f', new Date(NaN), ID)),
      'EUSAGE',
    ),
  );
  t.true(
    isTetherError(
      t.throws(() => variantName('f', NOW, ID, 0)),
      'EUSAGE',
    ),
  );
});

test('variant name: property — parse(variantName(x)) gives x back (fixed seed)', (t) => {
  const byteName = fc
    .uint8Array({ minLength: 1, maxLength: 40 })
    .map((b) => Buffer.from(b).toString('latin1'))
    .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..');
  fc.assert(
    fc.property(
      byteName,
      fc.integer({ min: 1, max: 50 }),
      fc.date({ min: new Date(0), max: new Date('2999-12-31'), noInvalidDate: true }),
      (name, n, when) => {
        const id = hashBytes(bytesOf(name));
        const v = variantName(name, when, id, n);
        const p = parseVariantName(v);
        const { stem, ext } = splitExt(name);
        return (
          p !== undefined &&
          p.stem === stem &&
          p.ext === ext &&
          p.n === n &&
          p.h8 === id.slice(0, 8) &&
          p.time.getTime() === Math.floor(when.getTime() / 1000) * 1000
        );
      },
    ),
    { seed: 9, numRuns: 500 },
  );
  t.pass();
});

test('variant name: merge never picks a name listed on any side', (t) => {
  const h8 = hashBytes(Buffer.from('b')).slice(0, 8);
  const first = `f.conflict-local-20260102T030405Z-${h8}`;
  const sc = scenario({ f: 'a', [first]: 'x' }, { f: 'b', [first]: 'x' }, { f: 'c', [first]: 'x' });
  t.is(sc.plan.conflicts[0]?.variantPath, `${first}-2`);
});

test('variant name: the server listing counts too', (t) => {
  const h8 = hashBytes(Buffer.from('b')).slice(0, 8);
  const first = `f.conflict-local-20260102T030405Z-${h8}`;
  const sc = scenario({ f: 'a' }, { f: 'b' }, { f: 'c', [first]: 'x' });
  t.is(sc.plan.conflicts[0]?.variantPath, `${first}-2`);
});

test('variant name: a directory variant is named by its tree id', (t) => {
  const sc = scenario({ f: 'a' }, { f: { x: 'x' } }, { f: 'b' });
  const id = sc.before.local.get('f')!.id!;
  t.is(sc.plan.conflicts[0]?.variantPath, `f.conflict-local-20260102T030405Z-${id.slice(0, 8)}`);
});

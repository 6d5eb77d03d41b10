// The last composed tree is reused only while every path its compose looked at has the lstat
// it had then (native/stats.c, or the JavaScript fallback without the addon), and only from the
// same base, note number and variants.
import test from 'ava';
import { appendFileSync, chmodSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../cli/run.js';
import { LocalMemo, SeenStats } from '../../src/volume/local-memo.js';
import { RACY_NS } from '../../src/scan/stamp.js';

const ID = 'a'.repeat(64);
const BASE = 'b'.repeat(64);
const NOW = { base: BASE, seq: 7, variants: '', named: ID };

/** A memo of a compose that saw d, d/f, d/g and the absent d/none, long after their ctimes. */
function recorded(root: string): LocalMemo {
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd/f'), 'one');
  writeFileSync(join(root, 'd/g'), 'two');
  const seen = new SeenStats(BigInt(Date.now() + 60_000) * 1_000_000n + RACY_NS);
  for (const p of ['d', 'd/f', 'd/g', 'd/none']) {
    let st;
    try {
      st = lstatSync(join(root, p), { bigint: true });
    } catch {
      st = undefined;
    }
    seen.saw(p, st);
  }
  const memo = new LocalMemo();
  memo.record(Buffer.from(root), { id: ID, base: BASE, seq: 7, variants: '', seen });
  return memo;
}

const cases: { what: string; change: (root: string) => void; reused: boolean }[] = [
  { what: 'nothing moved', change: () => undefined, reused: true },
  {
    what: 'a file written on',
    change: (r) => {
      appendFileSync(join(r, 'd/f'), '!');
    },
    reused: false,
  },
  {
    what: 'a file removed',
    change: (r) => {
      rmSync(join(r, 'd/g'));
    },
    reused: false,
  },
  {
    what: 'a file made where none was',
    change: (r) => {
      writeFileSync(join(r, 'd/none'), '');
    },
    reused: false,
  },
  {
    what: 'a mode changed',
    change: (r) => {
      chmodSync(join(r, 'd/f'), 0o600);
    },
    reused: false,
  },
  {
    what: 'the directory gone',
    change: (r) => {
      rmSync(join(r, 'd'), { recursive: true });
    },
    reused: false,
  },
];

for (const c of cases) {
  test(`reuse when ${c.what}: ${String(c.reused)}`, (t) => {
    const { dir, cleanup } = tempDir('local-memo-');
    t.teardown(cleanup);
    const memo = recorded(dir);
    c.change(dir);
    t.is(memo.reuse(NOW), c.reused ? ID : undefined);
  });
}

test('another base, note number, variants or ref: not reused', (t) => {
  const { dir, cleanup } = tempDir('local-memo-');
  t.teardown(cleanup);
  const memo = recorded(dir);
  t.is(memo.reuse({ ...NOW, base: 'c'.repeat(64) }), undefined);
  t.is(memo.reuse({ ...NOW, seq: 8 }), undefined);
  t.is(memo.reuse({ ...NOW, variants: 'x' }), undefined);
  t.is(memo.reuse({ ...NOW, named: undefined }), undefined);
  t.is(memo.reuse(NOW), ID);
});

test('a compose that saw a stat too recent to vouch is not kept', (t) => {
  const { dir, cleanup } = tempDir('local-memo-');
  t.teardown(cleanup);
  writeFileSync(join(dir, 'f'), 'x');
  const seen = new SeenStats(BigInt(Date.now()) * 1_000_000n);
  seen.saw('f', lstatSync(join(dir, 'f'), { bigint: true }));
  const memo = new LocalMemo();
  memo.record(Buffer.from(dir), { id: ID, base: BASE, seq: 7, variants: '', seen });
  t.is(memo.reuse(NOW), undefined);
});

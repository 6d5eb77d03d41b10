// `tether sync-dirs` end to end on real directories, through the compiled CLI: one-sided
// changes both ways, conflicts and their variants, automatic text merges, conflicts/show/
// resolve, the first-run rules, the unmounted-share guard, and idempotence.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { lookup } from '../../src/merge/tree-edit.js';
import { Store } from '../../src/store/store.js';
import { hashBytes } from '../../src/tree/index.js';
import { tempDir, tether, type Run } from '../cli/run.js';

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly store: string;
  sync(...extra: string[]): Run;
  cleanup(): void;
}

const lines = (n: number, tag: string): string =>
  Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`).join('\n') + '\n';

/** Two replicas of a small project after a first sync. */
function pair(t: { is: (a: unknown, b: unknown, m?: string) => void }): Pair {
  const tmp = tempDir();
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  const store = join(tmp.dir, 'store');
  mkdirSync(join(a, 'docs'), { recursive: true });
  writeFileSync(join(a, 'README'), 'readme\n');
  writeFileSync(join(a, 'docs', 'notes.txt'), lines(20, 'note'));
  writeFileSync(join(a, 'docs', 'old.txt'), 'old\n');
  writeFileSync(join(a, 'keep.bin'), Buffer.from([0, 1, 2, 255]));
  execFileSync('cp', ['-a', a, b]);
  const sync = (...extra: string[]): Run => tether(['sync-dirs', a, b, '--store', store, ...extra]);
  const first = sync();
  t.is(first.status, 0, `first sync: ${first.stderr}`);
  return { a, b, store, sync, cleanup: tmp.cleanup };
}

function same(a: string, b: string): Run {
  return tether(['diff', a, b, '--store', join(a, '..', 'diffstore')]);
}

test('one-sided changes flow both ways, names as bytes, links, modes, empty dirs', (t) => {
  const p = pair(t);
  try {
    writeFileSync(join(p.a, 'docs', 'notes.txt'), lines(21, 'note'));
    writeFileSync(Buffer.from(join(p.a, 'caf\xe9.txt'), 'latin1'), 'latin-1 name\n');
    symlinkSync('docs/notes.txt', join(p.a, 'link'));
    mkdirSync(join(p.a, 'empty'));
    chmodSync(join(p.a, 'README'), 0o600);
    rmSync(join(p.b, 'docs', 'old.txt'));
    writeFileSync(join(p.b, 'from-server.txt'), 'server\n');
    const big = Buffer.alloc(50 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    writeFileSync(join(p.b, 'big.bin'), big);

    const r = p.sync();
    t.is(r.status, 0, r.stderr + r.stdout);
    t.is(readFileSync(join(p.b, 'docs', 'notes.txt'), 'utf8'), lines(21, 'note'));
    t.is(readFileSync(Buffer.from(join(p.b, 'caf\xe9.txt'), 'latin1'), 'utf8'), 'latin-1 name\n');
    t.is(readlinkSync(join(p.b, 'link')), 'docs/notes.txt');
    t.true(lstatSync(join(p.b, 'empty')).isDirectory());
    t.is(lstatSync(join(p.b, 'README')).mode & 0o777, 0o600);
    t.false(existsSync(join(p.a, 'docs', 'old.txt')));
    t.is(readFileSync(join(p.a, 'from-server.txt'), 'utf8'), 'server\n');
    t.true(readFileSync(join(p.a, 'big.bin')).equals(big));
    t.is(same(p.a, p.b).status, 0, 'the replicas are equal');

    const again = p.sync();
    t.is(again.status, 0);
    t.regex(again.stdout, /^0 applied, 0 conflicts/m, 'a second run has nothing to do');
    t.is(tether(['fsck', '--store', p.store]).status, 0);
  } finally {
    p.cleanup();
  }
});

test('a file copied from the server gets its content id in base, hashed as it was copied', async (t) => {
  const p = pair(t);
  try {
    const text = 'from the server\n';
    writeFileSync(join(p.b, 'docs', 'new.txt'), text);
    writeFileSync(join(p.b, 'README'), 'readme, edited on the server\n');
    // Old enough to be trusted by their stamps: the server scan does not read them.
    const then = new Date(Date.now() - 60_000);
    for (const f of ['docs/new.txt', 'README']) utimesSync(join(p.b, f), then, then);
    t.is(p.sync().status, 0);
    const store = await Store.open(p.store, { readOnly: true });
    try {
      const base = store.getRef('sync/base')!;
      t.is(lookup(store, base, 'docs/new.txt')?.id, hashBytes(Buffer.from(text)));
      t.is(
        lookup(store, base, 'README')?.id,
        hashBytes(Buffer.from('readme, edited on the server\n')),
      );
    } finally {
      await store.close();
    }
    const again = p.sync();
    t.regex(again.stdout, /^0 applied, 0 conflicts/m, 'nothing left to do');
  } finally {
    p.cleanup();
  }
});

test('renames are applied as renames, both ways; a deletion', (t) => {
  const p = pair(t);
  try {
    renameSync(join(p.a, 'keep.bin'), join(p.a, 'kept.bin'));
    renameSync(join(p.b, 'docs', 'old.txt'), join(p.b, 'docs', 'older.txt'));
    rmSync(join(p.a, 'README'));
    const plan = p.sync('--dry-run').stdout;
    t.regex(plan, /server <- local\s+rename\s+keep\.bin -> kept\.bin/, 'no data sent');
    t.regex(plan, /local {2}<- server\s+rename\s+docs\/old\.txt -> docs\/older\.txt/, 'inferred');
    const r = p.sync();
    t.is(r.status, 0, r.stderr);
    t.deepEqual(readdirSync(p.b).sort(), ['docs', 'kept.bin']);
    t.deepEqual(readdirSync(join(p.a, 'docs')).sort(), ['notes.txt', 'older.txt']);
    t.is(same(p.a, p.b).status, 0);
  } finally {
    p.cleanup();
  }
});

test('an edit/edit conflict keeps both: server at the path, local as a variant in A', (t) => {
  const p = pair(t);
  try {
    const notes = join('docs', 'notes.txt');
    writeFileSync(join(p.a, notes), lines(20, 'note').replace('note 3\n', 'note 3 local\n'));
    writeFileSync(join(p.b, notes), lines(20, 'note').replace('note 3\n', 'note 3 server\n'));
    const r = p.sync();
    t.is(r.status, 3, 'conflicts remain: exit 3');
    t.regex(
      r.stdout,
      /conflict edit\/edit: docs\/notes\.txt \(local version kept as docs\/notes\.conflict-local-\d{8}T\d{6}Z-[0-9a-f]{8}\.txt\)/,
    );
    const variants = readdirSync(join(p.a, 'docs')).filter((n) => n.includes('.conflict-local-'));
    t.is(variants.length, 1);
    t.regex(readFileSync(join(p.a, 'docs', variants[0]!), 'utf8'), /note 3 local/);
    t.regex(readFileSync(join(p.a, notes), 'utf8'), /note 3 server/);
    t.regex(readFileSync(join(p.b, notes), 'utf8'), /note 3 server/);
    t.false(
      readdirSync(join(p.b, 'docs')).some((n) => n.includes('.conflict-')),
      'B never sees a variant',
    );

    const list = tether(['conflicts', '--store', p.store, '--json']);
    t.is(list.status, 0);
    t.is((JSON.parse(list.stdout) as { kind: string }[])[0]!.kind, 'edit/edit');
    const show = tether(['show', notes, '--variant', 'local', '--store', p.store]);
    t.regex(show.stdout, /note 3 local/);
    t.regex(tether(['show', notes, '--variant', 'base', '--store', p.store]).stdout, /^note 3$/m);

    const again = p.sync();
    t.is(again.status, 3, 'still waiting for a decision');
    t.is(
      readdirSync(join(p.a, 'docs')).filter((n) => n.includes('.conflict-')).length,
      1,
      'no second variant',
    );

    const res = tether(['resolve', notes, '--take', 'local', '--store', p.store]);
    t.is(res.status, 0, res.stderr);
    t.regex(readFileSync(join(p.b, notes), 'utf8'), /note 3 local/);
    const done = p.sync();
    t.is(done.status, 0, done.stdout);
    t.is(same(p.a, p.b).status, 0);
  } finally {
    p.cleanup();
  }
});

test('take server after the server changed the file again: its newer version stays', (t) => {
  const p = pair(t);
  try {
    const notes = join('docs', 'notes.txt');
    const text = (line3: string): string => lines(20, 'note').replace('note 3\n', line3 + '\n');
    writeFileSync(join(p.a, notes), text('note 3 local'));
    writeFileSync(join(p.b, notes), text('note 3 server'));
    t.is(p.sync().status, 3);
    // Another client edits the server's file again; the next sync brings that to A too.
    writeFileSync(join(p.b, notes), text('note 3 server, again'));
    t.is(p.sync().status, 3, 'the conflict is still open');
    t.is(readFileSync(join(p.a, notes), 'utf8'), text('note 3 server, again'));

    const res = tether(['resolve', notes, '--take', 'server', '--store', p.store]);
    t.is(res.status, 0, res.stderr);
    for (const side of [p.a, p.b]) {
      t.is(readFileSync(join(side, notes), 'utf8'), text('note 3 server, again'));
    }
    t.false(
      readdirSync(join(p.a, 'docs')).some((n) => n.includes('.conflict-')),
      'the variant is gone',
    );
    t.is(tether(['conflicts', '--store', p.store, '--json']).stdout.trim(), '[]');
    t.is(p.sync().status, 0);
    t.is(same(p.a, p.b).status, 0);
  } finally {
    p.cleanup();
  }
});

test('text edits in separate places merge automatically; --no-automerge keeps a conflict', (t) => {
  const p = pair(t);
  try {
    const notes = join('docs', 'notes.txt');
    writeFileSync(join(p.a, notes), lines(20, 'note').replace('note 2\n', 'note 2 local\n'));
    writeFileSync(join(p.b, notes), lines(20, 'note').replace('note 19\n', 'note 19 server\n'));
    const r = p.sync();
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /auto-merged: docs\/notes\.txt/);
    for (const side of [p.a, p.b]) {
      const text = readFileSync(join(side, notes), 'utf8');
      t.true(text.includes('note 2 local') && text.includes('note 19 server'));
    }
    const hist = tether(['conflicts', '--history', '--json', '--store', p.store]);
    t.regex(hist.stdout, /auto-merge/);

    writeFileSync(
      join(p.a, notes),
      readFileSync(join(p.a, notes), 'utf8').replace('note 5\n', 'five\n'),
    );
    writeFileSync(
      join(p.b, notes),
      readFileSync(join(p.b, notes), 'utf8').replace('note 15\n', 'fifteen\n'),
    );
    const off = p.sync('--no-automerge');
    t.is(off.status, 3, 'with automerge off the edits stay a conflict');
  } finally {
    p.cleanup();
  }
});

test('modification beats deletion, both ways', (t) => {
  const p = pair(t);
  try {
    writeFileSync(join(p.a, 'README'), 'edited locally\n');
    rmSync(join(p.b, 'README'));
    rmSync(join(p.a, 'keep.bin'));
    writeFileSync(join(p.b, 'keep.bin'), 'edited on the server\n');
    const r = p.sync();
    t.is(r.status, 0, r.stdout);
    t.is(readFileSync(join(p.b, 'README'), 'utf8'), 'edited locally\n');
    t.is(readFileSync(join(p.a, 'keep.bin'), 'utf8'), 'edited on the server\n');
    t.regex(r.stdout, /note modify\/delete: README/);
  } finally {
    p.cleanup();
  }
});

test('a missing or empty server replica stops the run and changes nothing', (t) => {
  const p = pair(t);
  try {
    writeFileSync(join(p.a, 'new.txt'), 'new\n');
    const hidden = p.b + '.unmounted';
    renameSync(p.b, hidden);
    const missing = p.sync();
    t.is(missing.status, 1);
    t.regex(
      missing.stderr,
      /server replica .* is missing: is the share mounted\? Nothing was changed/,
    );
    mkdirSync(p.b);
    for (const extra of [[], ['--initial']]) {
      // Not a first run: --initial changes nothing here.
      const empty = p.sync(...extra);
      t.is(empty.status, 1);
      t.regex(empty.stderr, /is empty: an unmounted share looks like this.* run again$/m);
      t.deepEqual(
        readdirSync(p.a).sort(),
        ['README', 'docs', 'keep.bin', 'new.txt'],
        'A untouched',
      );
      t.deepEqual(readdirSync(p.b), [], 'B untouched');
    }
  } finally {
    p.cleanup();
  }
});

test('first run: very different trees need --initial; nothing is ever deleted', (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    const store = join(tmp.dir, 'store');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'only-a'), 'a\n');
    writeFileSync(join(b, 'only-b'), 'b\n');
    writeFileSync(join(a, 'both'), 'version a\n');
    writeFileSync(join(b, 'both'), 'version b\n');
    const refused = tether(['sync-dirs', a, b, '--store', store]);
    t.is(refused.status, 2);
    // All three paths differ: only-a, only-b, and both (content), of the three there are.
    t.regex(refused.stderr, /first sync .* differ in 3 of 3 paths.*--initial/);
    t.deepEqual(readdirSync(a).sort(), ['both', 'only-a']);

    const r = tether(['sync-dirs', a, b, '--store', store, '--initial']);
    t.is(r.status, 3, r.stdout + r.stderr);
    t.deepEqual(
      readdirSync(b).sort(),
      ['both', 'only-a', 'only-b'],
      'the union, nothing deleted; B keeps its version',
    );
    t.is(readFileSync(join(b, 'both'), 'utf8'), 'version b\n');
    const variant = readdirSync(a).find((n) => n.startsWith('both.conflict-local-'));
    t.truthy(variant, 'A keeps its version as a variant');
    t.is(readFileSync(join(a, variant!), 'utf8'), 'version a\n');
    const other = tether(['sync-dirs', a, join(tmp.dir, 'elsewhere'), '--store', store]);
    t.not(other.status, 0, 'a store syncs one pair only');
  } finally {
    tmp.cleanup();
  }
});

test('first run into an empty server directory: refused, but for --initial, which fills it', (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    const store = join(tmp.dir, 'store');
    mkdirSync(join(a, 'd'), { recursive: true });
    writeFileSync(join(a, 'd', 'f'), 'f\n');
    mkdirSync(b);
    const refused = tether(['sync-dirs', a, b, '--store', store]);
    t.is(refused.status, 1);
    t.regex(refused.stderr, /is empty: .*if it is meant to start empty, fill it from .* --initial/);
    t.deepEqual(readdirSync(b), []);
    const r = tether(['sync-dirs', a, b, '--store', store, '--initial']);
    t.is(r.status, 0, r.stdout + r.stderr);
    t.is(readFileSync(join(b, 'd', 'f'), 'utf8'), 'f\n');
    t.is(same(a, b).status, 0);
  } finally {
    tmp.cleanup();
  }
});

test('first run: a copy made without keeping times is the same tree, not a wild difference', (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    mkdirSync(join(a, 'd'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(a, 'd', `f${i}`), `file ${i}\n`);
    execFileSync('cp', ['-r', a, b]); // new mtimes on every copy
    const store = join(tmp.dir, 'store');
    const r = tether(['sync-dirs', a, b, '--store', store]);
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(tether(['sync-dirs', a, b, '--store', store]).stdout, /^0 applied, 0 conflicts/m);
  } finally {
    tmp.cleanup();
  }
});

test('--dry-run prints the plan and changes nothing', (t) => {
  const p = pair(t);
  try {
    writeFileSync(join(p.a, 'planned.txt'), 'x\n');
    const r = p.sync('--dry-run');
    t.is(r.status, 0);
    t.regex(r.stdout, /server <- local\s+put\s+planned\.txt/);
    t.false(existsSync(join(p.b, 'planned.txt')));
    const j = p.sync('--dry-run', '--json');
    t.is((JSON.parse(j.stdout) as { actions: unknown[] }).actions.length, 1);
  } finally {
    p.cleanup();
  }
});

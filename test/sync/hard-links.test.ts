// Hard links through `tether sync-dirs` on real directories (MERGE.md rule H): a link made on
// either side is made as a link on the other, a file rewritten through one name is pulled as
// one file again, a group whose names were edited on both sides keeps every version (each name
// conflicts; the local variants are still one file), and a side that refuses the link (here
// EXDEV: the group spans two file systems there) gets a copy and the report says so.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';

interface Pair {
  readonly a: string;
  readonly b: string;
  sync(): { status: number; stdout: string; stderr: string };
}

function pair(t: { teardown(fn: () => void): void }, fill: (a: string) => void): Pair {
  const { dir, cleanup } = tempDir();
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  mkdirSync(a);
  mkdirSync(b);
  fill(a);
  const store = join(dir, 'S');
  const sync = () => tether(['sync-dirs', a, b, '--store', store]);
  t.teardown(() => {
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(dir)) {
      spawnSync('umount', ['-l', join(b, 'm')]);
    }
    cleanup();
  });
  const first = tether(['sync-dirs', a, b, '--store', store, '--initial']);
  if (first.status !== 0) throw new Error(first.stderr);
  return { a, b, sync };
}

const ino = (p: string): number => statSync(p).ino;
const nlink = (p: string): number => statSync(p).nlink;

test('a link made on either side is a link on the other, and stays one file', (t) => {
  const p = pair(t, (a) => {
    writeFileSync(join(a, 'x'), 'shared\n');
  });
  linkSync(join(p.a, 'x'), join(p.a, 'y'));
  mkdirSync(join(p.a, 'd'));
  linkSync(join(p.a, 'x'), join(p.a, 'd', 'z'));
  t.is(p.sync().status, 0);
  t.is(ino(join(p.b, 'y')), ino(join(p.b, 'x')));
  t.is(ino(join(p.b, 'd', 'z')), ino(join(p.b, 'x')));
  t.is(nlink(join(p.b, 'x')), 3);

  // Rewritten in place through one name on B, and a new link there: one file on A again.
  appendFileSync(join(p.b, 'd', 'z'), 'more\n');
  linkSync(join(p.b, 'x'), join(p.b, 'w'));
  const r = p.sync();
  t.is(r.status, 0, r.stdout + r.stderr);
  for (const n of ['y', 'd/z', 'w']) t.is(ino(join(p.a, n)), ino(join(p.a, 'x')), n);
  t.is(nlink(join(p.a, 'x')), 4);
  t.is(readFileSync(join(p.a, 'w'), 'utf8'), 'shared\nmore\n');
  t.regex(p.sync().stdout, /^0 applied/, 'nothing left to do');
});

test('a group edited on both sides keeps every version: each name conflicts, the local variants stay one file', (t) => {
  const p = pair(t, (a) => {
    writeFileSync(join(a, 'x'), 'shared\n');
  });
  linkSync(join(p.a, 'x'), join(p.a, 'y'));
  t.is(p.sync().status, 0);
  appendFileSync(join(p.a, 'x'), 'local\n');
  appendFileSync(join(p.b, 'y'), 'server\n');
  const r = p.sync();
  t.is(r.status, 3, r.stdout + r.stderr);
  t.regex(r.stdout, /conflict edit\/edit: x/);
  t.regex(r.stdout, /conflict edit\/edit: y/);
  // The server's file at both names, one file; the local one beside each, one file too.
  t.is(readFileSync(join(p.a, 'x'), 'utf8'), 'shared\nserver\n');
  t.is(ino(join(p.a, 'y')), ino(join(p.a, 'x')));
  const variants = readdirSync(p.a).filter((n) => n.includes('.conflict-local-'));
  t.is(variants.length, 2);
  for (const v of variants) t.is(readFileSync(join(p.a, v), 'utf8'), 'shared\nlocal\n');
  t.is(ino(join(p.a, variants[0]!)), ino(join(p.a, variants[1]!)));
  t.is(readFileSync(join(p.b, 'x'), 'utf8'), 'shared\nserver\n', 'the server keeps its file');
});

const asRoot = process.getuid?.() === 0;
(asRoot ? test : test.skip)(
  `a side that refuses the link gets a copy, and the report says so${asRoot ? '' : ' (skipped: mounting needs root)'}`,
  (t) => {
    const p = pair(t, (a) => {
      writeFileSync(join(a, 'x'), 'shared\n');
      mkdirSync(join(a, 'm'));
    });
    // B/m is another file system: a link from it to B/x is refused (EXDEV).
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', join(p.b, 'm')]);
    if (m.status !== 0) {
      t.log(`mount failed: ${String(m.stderr)}`);
      t.pass('no tmpfs mount here');
      return;
    }
    linkSync(join(p.a, 'x'), join(p.a, 'm', 'y'));
    const r = p.sync();
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(
      r.stdout,
      /note: server: "?m\/y"? was made as a copy, not as a hard link to "?x"?.*\(EXDEV\)/,
    );
    t.is(readFileSync(join(p.b, 'm', 'y'), 'utf8'), 'shared\n');
    t.regex(p.sync().stdout, /^0 applied/, 'the copy is no change');
  },
);

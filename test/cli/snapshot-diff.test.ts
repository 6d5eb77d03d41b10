// The snapshot, diff and fsck commands as a user runs them: output, --json, exit statuses,
// and every bad input getting a message that says what was wrong and what to do.
import test from 'ava';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { MAIN, tempDir, tether } from './run.js';

function project(root: string): void {
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'README'), 'readme\n');
  writeFileSync(join(root, 'src', 'a.c'), 'int a;\n');
  writeFileSync(Buffer.from(join(root, 'caf\xe9'), 'latin1'), 'bytes\n');
}

test('snapshot take is incremental: the next take reads only what changed, to the same tree', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'p');
    const store = join(dir, 'store');
    project(p);
    // Changed a while ago (a file changed just before a scan is read again by the next one).
    const past = (f: string | Buffer, s: number): void => {
      utimesSync(f, Date.now() / 1000 - 600 + s, Date.now() / 1000 - 600 + s);
    };
    past(join(p, 'README'), 0);
    past(join(p, 'src', 'a.c'), 1);
    past(Buffer.from(join(p, 'caf\xe9'), 'latin1'), 2);
    const take = (name: string, at = store): { hashedFiles: number; id: string } => {
      const r = tether(['snapshot', 'take', name, '--of', p, '--store', at, '--json']);
      t.is(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { hashedFiles: number; id: string };
    };
    t.is(take('v1').hashedFiles, 3);
    t.is(take('v2').hashedFiles, 0, 'nothing changed: nothing read');
    writeFileSync(join(p, 'src', 'a.c'), 'int a = 2;\n');
    past(join(p, 'src', 'a.c'), 3);
    const v3 = take('v3');
    t.is(v3.hashedFiles, 1, 'one file changed: one read');
    t.is(v3.id, take('fresh', join(dir, 'other')).id, 'the tree a fresh store makes');
  } finally {
    cleanup();
  }
});

test('snapshot take, list, show, diff and rm', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'p');
    const store = join(dir, 'store');
    project(p);
    const take1 = tether(['snapshot', 'take', 'v1', '--of', p, '--store', store]);
    t.is(take1.status, 0, take1.stderr);
    t.regex(take1.stdout, /snapshot v1: 3 files/);

    writeFileSync(join(p, 'src', 'a.c'), 'int a = 1;\n');
    chmodSync(join(p, 'README'), 0o600);
    rmSync(Buffer.from(join(p, 'caf\xe9'), 'latin1'));
    writeFileSync(join(p, 'new'), 'n\n');
    t.is(tether(['snapshot', 'take', 'v2', '--of', p, '--store', store]).status, 0);

    const list = tether(['snapshot', 'list', '--store', store, '--json']);
    t.deepEqual(
      (JSON.parse(list.stdout) as { name: string }[]).map((s) => s.name),
      ['v1', 'v2'],
    );
    const show = tether(['snapshot', 'show', 'v1', '--store', store]);
    t.regex(show.stdout, /"caf\\351"/);
    t.regex(show.stdout, /src\/a\.c/);

    const d = tether(['diff', 'v1', 'v2', '--store', store]);
    t.is(d.status, 1, 'different: exit 1');
    t.deepEqual(d.stdout.trim().split('\n'), [
      'M\tREADME\t(mode 644 -> 600)',
      'D\t"caf\\351"',
      'A\tnew',
      'M\tsrc/a.c',
    ]);
    const j = tether(['diff', 'v1', 'v2', '--store', store, '--json']);
    const changes = j.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { path: string; pathBase64: string; status: string; fields: string[] },
      );
    const cafe = changes.find((c) => c.status === 'D')!;
    t.deepEqual(Buffer.from(cafe.pathBase64, 'base64'), Buffer.from('caf\xe9', 'latin1'));
    t.deepEqual(changes.find((c) => c.path === 'README')!.fields, ['mode']);
    const stat = tether(['diff', 'v1', 'v2', '--store', store, '--stat']);
    t.regex(stat.stdout, /4 changes: 1 added, 1 deleted, 2 modified/);

    t.is(tether(['diff', 'v2', p, '--store', store]).status, 0, 'a directory against its snapshot');
    t.is(tether(['diff', 'v2', 'v2', '--store', store]).status, 0);
    t.is(tether(['fsck', '--store', store]).status, 0);
    t.is(tether(['snapshot', 'rm', 'v1', '--store', store]).status, 0);
    const gone = tether(['diff', 'v1', 'v2', '--store', store]);
    t.is(gone.status, 2, 'trouble: exit 2');
    t.regex(gone.stderr, /no snapshot named "v1".*tether snapshot list/);
  } finally {
    cleanup();
  }
});

test('a reader that closes the output early (| head) ends the command quietly', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = join(tmp.dir, 'store');
  mkdirSync(join(tmp.dir, 'd'));
  for (const name of ['a', 'b', 'c']) {
    t.is(
      tether(['snapshot', 'take', name, '--of', join(tmp.dir, 'd'), '--store', store]).status,
      0,
    );
  }
  const child = spawn(process.execPath, [MAIN, 'snapshot', 'list', '--store', store], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Closed before the command writes: each of its lines meets a closed pipe (EPIPE).
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', r));
  t.is(stderr, '');
  t.is(status, 0);
});

test('help and usage errors written to a pipe carry no colour codes', (t) => {
  // TERM says the terminal could show colour; the output goes to a pipe all the same.
  const env = { ...process.env, TERM: 'xterm-256color' };
  const help = tether(['snapshot', 'take', '--help'], { env });
  t.is(help.status, 0);
  t.regex(help.stdout, /Usage/);
  t.false(help.stdout.includes('\x1b['));
  const wrong = tether(['snapshot', 'tkae'], { env });
  t.not(wrong.status, 0);
  t.false((wrong.stdout + wrong.stderr).includes('\x1b['));
});

test('a store kept inside the snapshotted directory is left out of it', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'p');
    project(p);
    const opts = { cwd: p };
    t.is(tether(['snapshot', 'take', 'v1', '--of', '.', '--store', '.tether'], opts).status, 0);
    t.notRegex(tether(['snapshot', 'show', 'v1', '--store', '.tether'], opts).stdout, /\.tether/);
    t.is(tether(['diff', 'v1', '.', '--store', '.tether'], opts).status, 0, 'equal to itself');
  } finally {
    cleanup();
  }
});

test('bad input: each gets a clear message and a non-zero exit', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'p');
    const store = join(dir, 'store');
    project(p);
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'mine'), 'x');

    const cases: { args: string[]; status: number; message: RegExp }[] = [
      {
        args: ['snapshot', 'list', '--store', plain],
        status: 1,
        message: /is not a tether store \(no tether-store\.json in it\): pass a store directory/,
      },
      {
        args: ['snapshot', 'take', 'x', '--of', p, '--store', plain],
        status: 1,
        message: /is not a tether store/,
      },
      {
        args: ['snapshot', 'take', 'a/b', '--of', p, '--store', store],
        status: 2,
        message: /cannot name a snapshot/,
      },
      {
        args: ['snapshot', 'take', 'x', '--of', join(dir, 'missing'), '--store', store],
        status: 2,
        message: /cannot snapshot .*missing.*give an existing directory/,
      },
      {
        args: ['snapshot', 'show', 'nope', '--store', store],
        status: 1,
        message: /no snapshot named "nope"/,
      },
      { args: ['diff', 'onlyone'], status: 2, message: /./ },
      { args: ['diff', '@base', '@server', '--store', store], status: 2, message: /sync-dirs/ },
    ];
    t.is(tether(['snapshot', 'take', 'v1', '--of', p, '--store', store]).status, 0);
    for (const c of cases) {
      const r = tether(c.args);
      t.is(r.status, c.status, c.args.join(' '));
      t.regex(r.stderr + r.stdout, c.message, c.args.join(' '));
    }
    const dup = tether(['snapshot', 'take', 'v1', '--of', p, '--store', store]);
    t.is(dup.status, 2);
    t.regex(dup.stderr, /exists already.*--force/);
    t.deepEqual(readdirSync(plain), ['mine'], 'a directory that is not a store is left alone');
    t.is(tether(['fsck', '--store', store]).status, 0, 'nothing stored was damaged');
  } finally {
    cleanup();
  }
});

// Root reads everything, so this runs the CLI as nobody; that needs the build readable by it.
const NOBODY_CAN_RUN =
  spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(MAIN)})`], {
    uid: 65534,
    gid: 65534,
  }).status === 0;
(NOBODY_CAN_RUN ? test : test.skip)(
  NOBODY_CAN_RUN
    ? 'an unreadable file or directory is named in the error (run as an unprivileged user)'
    : 'an unreadable file or directory is named in the error — skipped: the build is not readable by an unprivileged user on this machine',
  (t) => {
    const { dir, cleanup } = tempDir();
    try {
      const nobody = 65534;
      chmodSync(dir, 0o755);
      const p = join(dir, 'p');
      project(p);
      writeFileSync(join(p, 'secret'), 'no');
      chmodSync(join(p, 'secret'), 0o000);
      const store = join(dir, 'store');
      mkdirSync(store);
      for (const x of [p, join(p, 'src'), join(p, 'README'), store]) chownSync(x, nobody, nobody);
      const asNobody = { uid: nobody, gid: nobody, cwd: dir };
      const take = (...extra: string[]) =>
        tether(
          ['snapshot', 'take', 'v1', '--of', p, '--store', store, '--strict', ...extra],
          asNobody,
        );
      const r = take();
      t.is(r.status, 1, r.stderr);
      t.regex(r.stderr, /cannot read secret in .*permission denied.*chmod u\+r/);

      rmSync(join(p, 'secret'));
      chmodSync(join(p, 'src'), 0o000);
      const r2 = take();
      t.is(r2.status, 1, r2.stderr);
      t.regex(r2.stderr, /cannot list src in .*permission denied.*chmod u\+rx/);
      t.notRegex(r2.stderr, /exclude/);
      chmodSync(join(p, 'src'), 0o755);
      const ok = take();
      t.is(ok.status, 0, 'after the fix the snapshot is taken: ' + ok.stderr);
    } finally {
      cleanup();
    }
  },
);

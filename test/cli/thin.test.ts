// The thin command line (cli/thin.ts): which arguments it takes itself and which it leaves to
// the full command line, and, where it leaves them (a path in no mount, a usage error), that
// the answer is the full command's, word for word. Its answers for a real mount are tested in
// test/mount/thin-cli.test.ts.
import test from 'ava';
import { parseThin } from '../../cli/thin.js';
import { spawnSync } from 'node:child_process';
import { fullRead, MAIN, tempDir, tetherLoading } from './run.js';

const TAKES: readonly (readonly string[])[] = [
  ['--version'],
  ['-v'],
  ['--help'],
  ['-h'],
  ['status'],
  ['status', '/m', '--json'],
  ['status', '--json', '/m'],
  ['online', '/m'],
  ['offline', '/m'],
  ['sync', '/m', '--dry-run', '--json'],
  ['why', '--json', '/m/a'],
  ['pin', '-r', '/m/a', '/m/b', '--priority', '3'],
  ['pin', '/m/a', '--priority=3', '--recursive'],
  ['unpin', '/m/a', '/m/b'],
  ['pins', '/m', '--json'],
  ['mode', 'manual', '/m'],
  ['events', '/m', '--follow', '--json'],
  ['unmount', '/m'],
  ['unmount', 'm'],
  ['hoard'],
  ['hoard', '--json'],
  ['hoard', '/m/a', '--json', '/m/b'],
];

const LEAVES: readonly (readonly string[])[] = [
  [],
  ['--help', 'status'],
  ['-h', '-v'],
  ['status', '--help'],
  ['status', '-h'],
  ['status', '/m', '/n'],
  ['status', '--json', '--json'],
  ['status', '--no-json'],
  ['status', '--json=1'],
  ['status', '--', '/m'],
  ['online'],
  ['online', '/m', '--dry-run'],
  ['sync', '/m', '--dry'],
  ['pin'],
  ['pin', '/m', '--priority'],
  ['pin', '/m', '--priority', '-1'],
  ['pin', '/m', '--priority='],
  ['pin', '/m', '-rf'],
  ['mode', '/m'],
  ['events', '--store', '/s'],
  ['--version', 'x'],
  ['mount', '/r', '/m'],
  ['snapshot', 'list'],
  ['unmount'],
  ['unmount', '/m', '/n'],
  ['unmount', '/m', '--json'],
  ['unmount', '--help', '/m'],
  ['unmount', '--', '/m'],
  ['hoard', '--json', '--json'],
  ['hoard', '--', '/m'],
  ['hoard', '/m', '-r'],
  ['hoard', '-h'],
  ['help'],
];

for (const argv of TAKES) {
  test(`the thin command line takes: tether ${argv.join(' ')}`, (t) => {
    t.not(parseThin(argv), undefined);
  });
}

for (const argv of LEAVES) {
  test(`the thin command line leaves to the full one: tether ${argv.join(' ')}`, (t) => {
    t.is(parseThin(argv), undefined);
  });
}

test('the thin command line reads options and paths as clipanion declares them', (t) => {
  const p = parseThin(['pin', '-r', '/m/a', '--priority=3', '/m/b']);
  t.deepEqual(p?.args.paths, ['/m/a', '/m/b']);
  t.true(p?.args.flags.has('recursive'));
  t.is(p?.args.values.get('priority'), '3');
  const e = parseThin(['events', '-f']);
  t.deepEqual([...(e?.args.flags ?? [])], ['follow']);
});

test('tether --version from the thin command line: the same text, and neither lmdb nor the full bundle', (t) => {
  for (const flag of ['--version', '-v']) {
    const thin = tetherLoading([flag]);
    const full = tetherLoading([flag], { TETHER_THIN: '0' });
    t.deepEqual([thin.status, thin.stdout, thin.stderr], [full.status, full.stdout, full.stderr]);
    t.is(thin.stdout, '0.1.0\n');
    t.deepEqual(thin.loaded.natives, []);
    t.true(thin.loaded.modules.some((m) => m.endsWith('tether-thin.cjs')));
    t.false(fullRead(thin.loaded));
    // The full command line loads every command for --version, lmdb among them.
    t.true(full.loaded.natives.some((n) => n.includes('lmdb')));
  }
});

test("tether --help from the thin command line: the full one's text, byte for byte, without its bundle", (t) => {
  for (const [flag, env] of [
    ['--help', {}],
    ['-h', {}],
    ['--help', { NO_COLOR: '1' }],
  ] as const) {
    const thin = tetherLoading([flag], env);
    const full = tetherLoading([flag], { ...env, TETHER_THIN: '0' });
    t.deepEqual([thin.status, thin.stdout, thin.stderr], [full.status, full.stdout, full.stderr]);
    t.is(thin.status, 0);
    t.regex(thin.stdout, /^ {2}tether unmount <MOUNTPOINT>$/m);
    t.deepEqual(thin.loaded.natives, []);
    t.false(fullRead(thin.loaded), `${flag}: handed to the full command line`);
    t.true(fullRead(full.loaded));
  }
});

// script(1) runs a command on a terminal of its own.
const noScript = spawnSync('script', ['--version']).error !== undefined;

/** What `tether argv` shows on a terminal. */
function onTerminal(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const command = [process.execPath, MAIN, ...argv].join(' ');
  return spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  }).stdout;
}

(noScript ? test.skip : test)(
  `tether --help on a terminal: in colour, as the full command line prints it${noScript ? ' (skipped: script(1) is not installed)' : ''}`,
  (t) => {
    const thin = onTerminal(['--help']);
    t.true(thin.includes('\x1b['), 'colour on a terminal');
    t.is(thin, onTerminal(['--help'], { TETHER_THIN: '0' }));
  },
);

/** A mount list in a message depends on what else is mounted at that moment. */
const steady = (text: string): string =>
  text.replace(/ \((none is mounted|mounted: [^)]*)\): [^\n]*/g, ' (mounts)');

test('a path in no mount: the thin command line leaves it to the full one, same error and exit', (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  for (const argv of [
    ['status', dir],
    ['status', dir, '--json'],
    ['online', dir],
    ['offline', dir],
    ['sync', dir, '--dry-run'],
    ['why', dir],
    ['pin', '-r', dir],
    ['pins', dir],
    ['mode', 'auto', dir],
    ['mode', 'sometimes', dir],
    ['events', dir],
    ['unmount', dir],
    ['hoard'],
    ['hoard', dir],
    ['hoard', dir, '--json'],
  ]) {
    const thin = tetherLoading(argv);
    const full = tetherLoading(argv, { TETHER_THIN: '0' });
    t.is(thin.status, full.status, argv.join(' '));
    t.is(thin.stdout, full.stdout, argv.join(' '));
    t.is(steady(thin.stderr), steady(full.stderr), argv.join(' '));
    t.is(thin.status, 2, argv.join(' '));
    t.regex(thin.stderr, /^tether: /);
    // Handed over: the full command line's bundle was read.
    t.true(fullRead(thin.loaded));
  }
});

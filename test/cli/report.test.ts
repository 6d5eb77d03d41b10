// The command line's error boundary: every error becomes a tether message with its exit kind.
import test from 'ava';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe } from '../../cli/report.js';
import { TetherError } from '../../src/errors.js';

function errno(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: i/o error, ${syscall}`);
  e.code = code;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  return e;
}

test('a system error says what failed, where, and what to do, without a stack', (t) => {
  const r = describe(errno('EIO', 'read'), 'tether sync-dirs');
  t.is(r.kind, 'error');
  t.regex(r.message, /^tether sync-dirs failed reading a file: an input\/output error/);
  t.regex(r.message, /check that the server answers/);
  t.regex(r.message, /\(EIO, read\)/);
  t.notRegex(r.message, /\n/);
  const p = describe(errno('EACCES', 'open', '/srv/x'), 'tether snapshot take');
  t.regex(p.message, /failed opening \/srv\/x: permission denied/);
});

test('a tether error is its own message; a usage error has the usage kind', (t) => {
  t.deepEqual(describe(new TetherError('ECORRUPT', 'damaged; run fsck'), 'tether x'), {
    message: 'damaged; run fsck',
    kind: 'error',
  });
  t.is(describe(new TetherError('EUSAGE', 'no'), 'tether x').kind, 'usage');
});

test('an internal error says it is a bug, where it happened, and keeps the stack in a file', (t) => {
  let err: unknown;
  try {
    JSON.stringify((null as unknown as { x: number }).x);
  } catch (e) {
    err = e;
  }
  const r = describe(err, 'tether conflicts');
  t.regex(r.message, /^internal error in tether conflicts \(a bug in tether/);
  t.regex(r.message, /TypeError: Cannot read properties of null/);
  t.regex(r.message, /report\.test\.[jt]s/, 'where it happened');
  t.notRegex(r.message, /\n/, 'one line, no stack');
  const file = /The details are in (\S+)\.txt\./.exec(r.message)?.[1];
  t.truthy(file);
  const path = `${file!}.txt`;
  t.true(existsSync(path));
  t.regex(readFileSync(path, 'utf8'), /at /, 'the stack is in the file');
  rmSync(path);
});

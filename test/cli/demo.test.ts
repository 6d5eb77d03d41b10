// The README's quick start: `tether demo` runs the whole story on the built-in example and
// checks every step's exit status itself; here it must finish with 0.
import test from 'ava';
import { join } from 'node:path';
import { tempDir, tether } from './run.js';

test('the demo runs end to end', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const r = tether(['demo', '--dir', join(dir, 'demo')]);
    t.is(r.status, 0, r.stdout.slice(-2000) + r.stderr);
    t.regex(r.stdout, /demo finished/);
    t.regex(r.stdout, /auto-merged: src\/util\.c/);
    t.regex(r.stdout, /conflict edit\/edit: docs\/notes\.txt/);
  } finally {
    cleanup();
  }
});

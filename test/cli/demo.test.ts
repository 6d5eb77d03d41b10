// The README's quick start: `tether demo` runs the whole story on the built-in example and
// checks every step's exit status itself; here it must finish with 0. Where FUSE is available
// it shows the mount; `--sync-dirs` (or no FUSE) shows the two-replica story.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from './run.js';

const fuse = existsSync('/dev/fuse');

test(`the demo runs end to end${fuse ? ', with the mount' : ' (no /dev/fuse: the sync-dirs story)'}`, (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const r = tether(['demo', '--dir', join(dir, 'demo')], { timeout: 180_000 });
    t.is(r.status, 0, r.stdout.slice(-3000) + r.stderr);
    t.regex(r.stdout, /demo finished/);
    if (fuse) {
      t.regex(r.stdout, /\$ tether online work\n.*online \(\d+ changes applied, 1 conflict open\)/);
      t.regex(r.stdout, /EDISCONDATA/);
      t.regex(r.stdout, /notes\.conflict-local-\d{8}T\d{6}Z-[0-9a-f]{8}\.txt/);
      t.regex(r.stdout, /unmounted .*work/);
      // After gc, fsck finds every object reachable.
      t.regex(r.stdout, /\$ tether gc --store store\nfreed \d+ of \d+ objects/);
      t.notRegex(r.stdout, /unreferenced objects/);
    } else {
      t.regex(r.stdout, /FUSE is not available here/);
    }
    t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(join(dir, 'demo')));
  } finally {
    cleanup();
  }
});

test('the demo tells the two-replica story when asked', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const r = tether(['demo', '--sync-dirs', '--dir', join(dir, 'demo')]);
    t.is(r.status, 0, r.stdout.slice(-2000) + r.stderr);
    t.regex(r.stdout, /demo finished/);
    t.regex(r.stdout, /auto-merged: src\/util\.c/);
    t.regex(r.stdout, /conflict edit\/edit: docs\/notes\.txt/);
  } finally {
    cleanup();
  }
});

// `tether mount` with a cache size that is no size: refused with what was wrong and what to
// give, before anything is made (no store, no daemon).
import test from 'ava';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether } from '../cli/run.js';

for (const [option, value] of [
  ['--cache-size', 'lots'],
  ['--pin-cache-size', '0'],
  ['--cache-size', '-1G'],
]) {
  test(`mount ${option} ${value} is refused, and nothing is made`, (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const remote = join(tmp.dir, 'remote');
    const mnt = join(tmp.dir, 'mnt');
    const store = join(tmp.dir, 'store');
    mkdirSync(remote);
    mkdirSync(mnt);
    const r = tether(['mount', remote, mnt, '--store', store, `${option}=${value}`]);
    t.is(r.status, 2, r.stderr); // a usage error
    t.regex(r.stderr, new RegExp(`${option} "${value}" is not a size: .*500M or 2G`));
    t.false(existsSync(store));
  });
}

// A cold walk of a mount learns its nodes from readdirplus replies alone
// (src/fuse/lowlevel-dirs.ts): names travel as Latin-1 strings, nodes are found by inode
// number. Hard links met in listings must be one node (one inode, one link count), a name that
// is not UTF-8 must be listed and reached byte for byte, and a directory listed by readdirplus
// must have its missing names answered by the session thread, with no lookup reaching
// JavaScript.
import test from 'ava';
import { cannotMount, kernelCounts, mounted, requestCounts, sh, tetherRun } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

serial(
  `a cold walk: hard links listed by readdirplus are one inode, odd names reach their files, missing names are answered natively${skipped}`,
  async (t) => {
    const trace = { TETHER_FUSE_TRACE: '1' };
    const v = await mounted(t, () => undefined, trace);
    const m = v.mnt;
    t.is((await tetherRun(['offline', m])).status, 0);
    const made = await sh(
      `mkdir -p ${m}/d/sub && printf linked > ${m}/d/a && ln ${m}/d/a ${m}/d/b && ` +
        `ln ${m}/d/a ${m}/d/sub/c && printf odd > ${m}/d/$(printf 'caf\\351')`,
    );
    t.is(made.status, 0, made.stderr);
    // (Read back as UTF-8, the lone byte 0xe9 is U+FFFD.) Mounted again over the same store: a fresh node table, an empty kernel cache.
    await v.unmount();
    const again = await tetherRun(['mount', v.remote, m, '--store', v.store], 60_000, {
      ...process.env,
      ...trace,
    });
    t.is(again.status, 0, again.stderr);
    try {
      const walk = await sh(`cd ${m} && find . -mount -type f -printf '%i %n %p\\n' | sort -k3`);
      const rows = walk.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      t.deepEqual(
        rows.map((r) => r[2]),
        ['./d/a', './d/b', './d/caf\ufffd', './d/sub/c'],
        walk.stderr,
      );
      const linked = rows.filter((r) => r[2] !== './d/caf\ufffd');
      t.is(new Set(linked.map((r) => r[0])).size, 1, walk.stdout);
      t.deepEqual(
        linked.map((r) => r[1]),
        ['3', '3', '3'],
        walk.stdout,
      );
      const read = await sh(
        `cat ${m}/d/sub/c ${m}/d/$(printf 'caf\\351'); test ! -e ${m}/d/sub/missing && echo`,
      );
      t.is(read.stdout, 'linkedodd\n', read.stderr);
    } finally {
      await tetherRun(['unmount', m], 60_000);
    }
    const js = requestCounts(v.store);
    const kernel = kernelCounts(v.store);
    const all = `kernel ${[...kernel].join(' ')}; js ${[...js].join(' ')}`;
    t.true((js.get('readdirplus') ?? 0) >= 3, all);
    t.true((kernel.get('lookup') ?? 0) >= 1, all);
    t.is(js.get('lookup') ?? 0, 0, all);
  },
);

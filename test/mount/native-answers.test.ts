// The low-level binding's session thread answers some requests itself from a descriptor per
// node (native/lowlevel_nodes.c): "no such name" in a directory, getattr and getxattr of a
// file just created. Each answer must be about that node's own file, whatever descriptors
// the daemon opens and closes meanwhile.
import test from 'ava';
import { cannotMount, mounted, sh } from './harness.js';

const why = cannotMount;
const serial = why === undefined ? test.serial : test.serial.skip;
const skipped = why === undefined ? '' : ` (skipped: ${why})`;

serial(
  `lowlevel: a closed file's attributes are its own, not the next file's${skipped}`,
  async (t) => {
    const v = await mounted(t, () => undefined);
    const m = v.mnt;
    t.is((await sh(`mkdir ${m}/d && printf 12345 > ${m}/d/a`)).status, 0);
    // b is made while a's descriptor is closed: the daemon may reuse its number for b.
    const r = await sh(
      `exec 3> ${m}/d/b; printf %0100d 0 >&3; sleep 0.2; stat -c %s ${m}/d/a; exec 3>&-`,
    );
    t.is(r.stdout.split('\n')[0], '5', r.stderr);
    // Names made, removed and made again in a directory are found (or not) as they are now.
    const again = await sh(
      `rm -r ${m}/d && mkdir ${m}/d && test ! -e ${m}/d/a && printf x > ${m}/d/a && cat ${m}/d/a && ls ${m}/d`,
    );
    t.is(again.stdout, 'xa\n', again.stderr);
  },
);

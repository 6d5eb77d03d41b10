// The low-level binding's session thread answers some requests itself from a descriptor per
// node (native/lowlevel_nodes.c): "no such name" in a directory, getattr and getxattr of a
// file just created. Each answer must be about that node's own file, whatever descriptors
// the daemon opens and closes meanwhile. A file opened to write is answered for the same way
// while it is open (the kernel asks security.capability before every write).
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, kernelCounts, mounted, requestCounts, sh, tetherRun } from './harness.js';

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

serial(
  `lowlevel: a file opened to write has its getxattrs and getattrs answered by the session thread, right${skipped}`,
  async (t) => {
    const WRITES = 64;
    const v = await mounted(
      t,
      (remote) => {
        writeFileSync(join(remote, 'f'), 'was here\n');
      },
      { TETHER_FUSE_TRACE: '1' },
    );
    const m = v.mnt;
    t.is((await sh(`cat ${m}/f`)).stdout, 'was here\n'); // cached, so it opens offline
    t.is((await tetherRun(['offline', m])).status, 0);
    // An existing file opened to write (not created): the kernel asks security.capability
    // before each write; fstat on the open file and stat by name agree on its size.
    const r = await sh(
      `exec 3<> ${m}/f; for i in $(seq ${WRITES}); do printf %01024d 0 >&3; done; ` +
        `stat -c %s ${m}/f; stat -L -c %s /proc/self/fd/3; exec 3>&-; stat -c %s ${m}/f`,
    );
    const size = String(WRITES * 1024);
    t.deepEqual(r.stdout.trim().split('\n'), [size, size, size], r.stderr);
    await v.unmount();
    const kernel = kernelCounts(v.store);
    const js = requestCounts(v.store);
    const all = `kernel ${[...kernel].join(' ')}; js ${[...js].join(' ')}`;
    t.true((kernel.get('getxattr') ?? 0) >= WRITES, all);
    t.true((js.get('getxattr') ?? 0) < WRITES / 4, all);
  },
);

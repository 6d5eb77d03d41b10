// The low-level binding lets the kernel cache entries, attributes, pages and listings for an
// hour; that is correct only because the volume tells the binding what it changed underneath
// the mount. A server change pulled online must be visible through the mount at once.
import test from 'ava';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, eventually, mounted, sh } from './harness.js';

const why = cannotMount;
const serial = why === undefined ? test.serial : test.serial.skip;
const skipped = why === undefined ? '' : ` (skipped: ${why})`;

serial(
  `lowlevel: server changes pulled online show through hour-long caches${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        writeFileSync(join(r, 'a.txt'), 'one\n');
        mkdirSync(join(r, 'd'));
        writeFileSync(join(r, 'd', 'x'), 'x\n');
      },
      { TETHER_PULL_MS: '300' },
    );
    const m = v.mnt;
    // Into the kernel's caches: pages, attributes, a negative entry, a listing.
    t.is((await sh(`cat ${m}/a.txt`)).stdout, 'one\n');
    t.is((await sh(`stat -c %s ${m}/a.txt`)).stdout, '4\n');
    t.not((await sh(`stat ${m}/new.txt`)).status, 0);
    t.is((await sh(`ls ${m}/d`)).stdout, 'x\n');
    // A name d lacks: answered by the session thread from d's descriptor, and cached.
    t.not((await sh(`stat ${m}/d/z`)).status, 0);

    writeFileSync(join(v.remote, 'a.txt'), 'two, longer\n');
    writeFileSync(join(v.remote, 'new.txt'), 'fresh\n');
    writeFileSync(join(v.remote, 'd', 'y'), 'y\n');
    rmSync(join(v.remote, 'd', 'x'));
    writeFileSync(join(v.remote, 'd', 'z'), 'z\n');

    const now = async (cmd: string, want: string): Promise<boolean> =>
      (await sh(cmd)).stdout === want;
    t.true(await eventually(() => now(`cat ${m}/a.txt`, 'two, longer\n'), 8000), 'new content');
    t.true(await now(`stat -c %s ${m}/a.txt`, '12\n'), 'new size');
    t.true(await eventually(() => now(`cat ${m}/new.txt`, 'fresh\n'), 8000), 'new file');
    t.true(await eventually(() => now(`ls ${m}/d`, 'y\nz\n'), 8000), 'new listing');
    t.true(await eventually(() => now(`cat ${m}/d/z`, 'z\n'), 8000), 'found where it was not');
  },
);

// Snapshots in a volume's hidden `.tether/snapshots/NAME/…` are kept by the kernel (a
// snapshot's content never changes while its name stands), and the names are followed: a
// name removed and taken again with other content shows the new content at once.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, mounted, requestCounts, sh, tetherRun } from '../mount/harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

serial(
  `a second find and stat of a snapshot in .tether asks JavaScript nothing${skipped}`,
  async (t) => {
    const DIRS = 20;
    const FILES = 10;
    const v = await mounted(
      t,
      (r) => {
        for (let d = 0; d < DIRS; d++) {
          mkdirSync(join(r, `d${String(d)}`));
          for (let f = 0; f < FILES; f++)
            writeFileSync(join(r, `d${String(d)}`, `f${String(f)}`), `${String(d)} ${String(f)}\n`);
        }
      },
      { TETHER_FUSE_TRACE: '1' },
    );
    const take = await tetherRun(['snapshot', 'take', 's', '--of', v.remote, '--store', v.store]);
    t.is(take.status, 0, take.stderr);
    const s = `${v.mnt}/.tether/snapshots/s`;
    const walk = `find ${s} -exec stat -c '%i %s' {} + | sort | md5sum`;
    const cold = await sh(walk);
    t.is(cold.status, 0, cold.stderr);
    const files = DIRS * FILES;
    t.is((await sh(`find ${s} -type f | wc -l`)).stdout, `${String(files)}\n`);
    for (let i = 0; i < 3; i++) t.is((await sh(walk)).stdout, cold.stdout);
    await v.unmount();
    const n = requestCounts(v.store);
    const all = [...n].join(' ');
    // Uncached, each of the five walks asks for every name again (a lookup and getattrs per
    // name, a listing per directory). Kept, the first walk asks (readdirplus may answer some
    // lookups), and the rest are the kernel's: a listing may be asked again if the kernel let
    // its cached one go, but nothing per name.
    t.true((n.get('lookup') ?? 0) < 2 * (files + DIRS), all);
    t.true((n.get('getattr') ?? 0) < files / 2, all);
    t.true(Math.max(n.get('readdirplus') ?? 0, n.get('readdir') ?? 0) <= 3 * (DIRS + 1), all);
  },
);

serial(
  `a snapshot removed and taken again shows its new content through .tether at once${skipped}`,
  async (t) => {
    const v = await mounted(t, (r) => {
      writeFileSync(join(r, 'same.txt'), 'one\n');
      writeFileSync(join(r, 'grows.txt'), 'short\n');
    });
    const s = `${v.mnt}/.tether/snapshots/s`;
    const ok = async (args: string[]): Promise<void> => {
      const r = await tetherRun(args);
      t.is(r.status, 0, r.stderr);
    };
    const show = `cat ${s}/same.txt ${s}/grows.txt; stat -c %s ${s}/grows.txt; ls ${s}`;
    // The bytes are fetched into the store (a snapshot shows what the store has).
    t.is((await sh(`cat ${v.mnt}/same.txt ${v.mnt}/grows.txt`)).stdout, 'one\nshort\n');
    t.is((await sh(`ls ${s}`)).status, 2); // looked up while absent
    // A snapshot of a directory into the volume's store, by another process.
    await ok(['snapshot', 'take', 's', '--of', v.remote, '--store', v.store]);
    t.is((await sh(show)).stdout, 'one\nshort\n6\ngrows.txt\nsame.txt\n');
    // Read again and again: all of it is kept by the kernel now.
    t.is((await sh(show)).stdout, 'one\nshort\n6\ngrows.txt\nsame.txt\n');
    // A process holds the old file open across the change (its node stays in the kernel).
    const held = sh(`exec 3<${s}/same.txt; sleep 3; cat <&3`);
    // Other content of the same size and time, a file that grew, and a new one.
    const w = await sh(
      `printf 'two\\n' > ${v.mnt}/same.txt && printf 'a good deal longer\\n' > ${v.mnt}/grows.txt && touch -r ${v.remote}/same.txt ${v.mnt}/same.txt && echo n > ${v.mnt}/new.txt`,
    );
    t.is(w.status, 0, w.stderr);
    // Removed, and taken again, by the volume's daemon (of what the mount shows now).
    await ok(['snapshot', 'rm', 's', '--of', v.mnt]);
    t.is((await sh(`ls ${s}`)).status, 2);
    await ok(['snapshot', 'take', 's', v.mnt]);
    t.is((await sh(show)).stdout, 'two\na good deal longer\n19\ngrows.txt\nnew.txt\nsame.txt\n');
    t.is((await held).stdout, 'one\n', 'the old snapshot read through a descriptor kept open');
  },
);

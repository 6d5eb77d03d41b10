// The working set over a real sshfs share: pinned paths hoarded, then the server killed, and
// every pinned file still reads while the files left out fail with ENODATA; a recursive pin
// covers files created on the server later; a hoard run again after it finished has nothing
// left to fetch (resumable: what is fetched is no longer a placeholder), also after a daemon
// killed with -9 in the middle of a hoard, whose store then verifies. Base learns each hoarded
// file's id: the id of the server's bytes, with those bytes in the store.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF_BASE } from '../../src/store/kv.js';
import { Store } from '../../src/store/store.js';
import { hashBytes, lookup } from '../../src/tree/index.js';
import { localDirOf } from '../../src/volume/layout.js';
import { eventually, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;

/**
 * For each of `paths`, the id base gives it and whether the store holds that blob with exactly
 * those bytes (read beside the daemon, the store opened read-only).
 */
async function baseBlobs(
  store: string,
  paths: readonly string[],
): Promise<Map<string, { id?: string; bytes?: Buffer }>> {
  const s = await Store.open(store, { readOnly: true });
  try {
    const base = s.getRef(REF_BASE);
    const out = new Map<string, { id?: string; bytes?: Buffer }>();
    for (const p of paths) {
      const id = base === undefined ? undefined : lookup(s, base, p)?.id;
      const bytes = id === undefined ? undefined : await s.readBlob(id).catch(() => undefined);
      out.set(p, {
        ...(id === undefined ? {} : { id }),
        ...(bytes === undefined ? {} : { bytes }),
      });
    }
    return out;
  } finally {
    await s.close();
  }
}

serial(`pinned files hoarded before an outage read during it${skipped}`, async (t) => {
  const v = await sshfsVolume(
    t,
    (e) => {
      mkdirSync(join(e, 'project', 'src'), { recursive: true });
      for (let i = 0; i < 40; i++)
        writeFileSync(join(e, 'project', 'src', `f${i}.txt`), `file ${i}\n`);
      writeFileSync(join(e, 'project', 'README'), 'readme\n');
      // Large enough for a blob file of its own in the store (small ones live in LMDB).
      writeFileSync(join(e, 'project', 'big.bin'), Buffer.alloc(200_000, 'big '));
      writeFileSync(join(e, 'notes.txt'), 'notes\n');
      writeFileSync(join(e, 'other.txt'), 'other\n');
    },
    { TETHER_PULL_MS: '500' },
  );
  t.is((await tetherRun(['pin', '--recursive', join(v.mnt, 'project')])).status, 0);
  t.is((await tetherRun(['pin', join(v.mnt, 'notes.txt'), '--priority', '5'])).status, 0);
  const pins = await tetherRun(['pins', v.mnt, '--json']);
  t.deepEqual(JSON.parse(pins.stdout), [
    { path: 'notes.txt', recursive: false, priority: 5 },
    { path: 'project', recursive: true, priority: 0 },
  ]);
  const h = await tetherRun(['hoard', v.mnt, '--json'], 60_000);
  t.is(h.status, 0, h.stderr);
  t.like(JSON.parse(h.stdout), { total: 43, done: 43, failed: 0 });
  const hoarded = [
    ...Array.from({ length: 40 }, (_, i) => `project/src/f${i}.txt`),
    'project/README',
    'project/big.bin',
    'notes.txt',
  ];
  const bytes = hoarded.reduce((n, p) => n + readFileSync(join(v.exported, p)).length, 0);
  t.is((JSON.parse(h.stdout) as { bytes: number }).bytes, bytes, 'the bytes fetched');
  for (const [p, got] of await baseBlobs(v.store, hoarded)) {
    const want = readFileSync(join(v.exported, p));
    t.is(got.id, hashBytes(want), `${p}: base has the id of the server's bytes`);
    t.deepEqual(got.bytes, want, `${p}: the store holds those bytes`);
  }

  // Created on the server after the pin: the next hoard covers it (recursive pin).
  writeFileSync(join(v.exported, 'project', 'later.txt'), 'later\n');
  t.true(
    await eventually(async () => (await sh(`ls ${v.mnt}/project`)).stdout.includes('later.txt')),
  );
  const again = await tetherRun(['hoard', v.mnt, '--json'], 60_000);
  t.like(JSON.parse(again.stdout), { total: 0, failed: 0 }, 'nothing left to fetch');

  v.kill();
  t.true(
    await eventually(async () => {
      const s = await tetherRun(['status', v.mnt, '--json'], 15_000);
      return s.status === 0 && (JSON.parse(s.stdout) as { mode: string }).mode === 'offline';
    }, 15_000),
  );
  const read = await sh(
    `cat ${v.mnt}/project/src/f0.txt ${v.mnt}/project/src/f39.txt ${v.mnt}/project/later.txt ${v.mnt}/notes.txt`,
    10_000,
  );
  t.is(read.status, 0, read.stderr);
  t.is(read.stdout, 'file 0\nfile 39\nlater\nnotes\n');
  const left = await sh(`cat ${v.mnt}/other.txt`, 10_000);
  t.regex(left.stderr, /No data available/);

  t.is((await tetherRun(['unpin', join(v.mnt, 'notes.txt')])).status, 0);
  const after = await tetherRun(['pins', v.mnt, '--json']);
  t.is((JSON.parse(after.stdout) as unknown[]).length, 1);
});

serial(
  `a daemon killed with -9 mid-hoard: the store verifies, the next hoard fetches the rest${skipped}`,
  async (t) => {
    const N = 3000;
    const v = await sshfsVolume(
      t,
      (e) => {
        mkdirSync(join(e, 'set'));
        for (let i = 0; i < N; i++)
          writeFileSync(join(e, 'set', `f${i}`), `file ${i}\n`.repeat(i % 50));
      },
      { TETHER_PULL_MS: '600000' },
    );
    t.is((await tetherRun(['pin', '--recursive', join(v.mnt, 'set')])).status, 0);
    const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
    // Fetched so far: files of the local view with blocks (a placeholder is sparse).
    const view = join(localDirOf(v.store), 'set');
    const fetched = (): number =>
      readdirSync(view).filter((n) => statSync(join(view, n)).blocks > 0).length;
    const hoard = tetherRun(['hoard', v.mnt, '--json'], 120_000);
    t.true(await eventually(() => fetched() >= N / 10, 60_000, 5), 'the hoard got under way');
    process.kill(pid, 'SIGKILL');
    const cut = await hoard;
    t.not(cut.status, 0, 'the hoard was cut');
    spawnSync('fusermount', ['-uz', v.mnt]);
    const fsck = await tetherRun(['fsck', '--store', v.store], 60_000);
    t.is(fsck.status, 0, fsck.stdout + fsck.stderr);

    const m = await v.mount();
    t.is(m.status, 0, m.stderr);
    const again = await tetherRun(['hoard', v.mnt, '--json'], 120_000);
    t.is(again.status, 0, again.stderr);
    const h = JSON.parse(again.stdout) as { total: number; done: number; failed: number };
    t.log(`after the kill: ${h.total} of ${N} files left to fetch`);
    t.true(h.total > 0 && h.total < N, again.stdout);
    t.like(h, { done: h.total, failed: 0 });
    // Offline, the server gone: every file reads from the cache.
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    v.kill();
    const sum = await sh(`cd ${v.mnt}/set && cat $(ls | sort) | md5sum`, 30_000);
    const want = await sh(`cd ${v.exported}/set && cat $(ls | sort) | md5sum`, 30_000);
    t.is(sum.stdout, want.stdout, 'every file reads offline with its content');
  },
);

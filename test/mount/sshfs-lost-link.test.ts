// A share that fails under the volume in the ways sshfs fails (issue 16 item 1): the login's
// key stops working (sshfs cannot reconnect and answers EIO), or the sshfs process dies (the
// share answers ENOTCONN). Neither is the application's error: cached files still read,
// a file never fetched fails with ENODATA (EDISCONDATA), writes are kept, and the volume goes
// offline (`offline:failure`); once the share works again the probe brings it back and syncs.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, modeDetail, sh } from './harness.js';
import { cannotSshfs, sshfsVolume, type SshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;

/** The pid of the sshfs process serving `share` (found by its command line). */
function sshfsPid(share: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('sshfs') === true && argv.includes(share)) return Number(name);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** `cached.txt` read once through the mount (a first fetch the machine's load cut short is retried once the volume is back). */
async function cacheIt(v: SshfsVolume): Promise<boolean> {
  return eventually(
    async () => (await sh(`cat ${v.mnt}/cached.txt`, 10_000)).stdout === 'cached\n',
    45_000,
    500,
  );
}

const fill = (e: string): void => {
  writeFileSync(join(e, 'cached.txt'), 'cached\n');
  writeFileSync(join(e, 'uncached.txt'), 'never fetched\n');
};

/** What the mount answers once the share has failed: cached reads, ENODATA, writes kept. */
async function servedFromCache(t: ExecutionContext, v: SshfsVolume): Promise<void> {
  const cached = await sh(`cat ${v.mnt}/cached.txt`, 10_000);
  t.is(cached.status, 0, cached.stderr);
  t.is(cached.stdout, 'cached\n');
  const uncached = await sh(`cat ${v.mnt}/uncached.txt`, 10_000);
  t.not(uncached.status, 0);
  t.notRegex(uncached.stderr, /Input\/output error/);
  t.regex(uncached.stderr, /No data available/);
  const w = await sh(`printf 'written while lost' > ${v.mnt}/offline.txt`, 10_000);
  t.is(w.status, 0, w.stderr);
  t.true(
    await eventually(async () => (await modeDetail(v.mnt)) === 'offline:failure', 15_000),
    await modeDetail(v.mnt),
  );
  const again = await sh(`cat ${v.mnt}/cached.txt ${v.mnt}/offline.txt`, 10_000);
  t.is(again.stdout, 'cached\nwritten while lost');
}

serial(`the share's key stops working: served from the cache, offline${skipped}`, async (t) => {
  const v = await sshfsVolume(t, fill, { TETHER_PULL_MS: '500', TETHER_DEADLINE_MS: '10000' });
  t.true(await cacheIt(v), 'cached before the share fails');
  // The key is refused from now on, and the connection drops: sshfs cannot log in again.
  const keys = join(v.dir, 'authorized_keys');
  const key = readFileSync(keys);
  writeFileSync(keys, '');
  v.kill();
  await v.restart();
  // What sshfs answers then (measured): EIO for every call, the share's root included.
  const share = await sh(`ls ${v.share}`, 10_000);
  t.regex(share.stderr, /Input\/output error/);
  await servedFromCache(t, v);
  // The key works again: the probe reconnects and the write made meanwhile reaches the server.
  writeFileSync(keys, key);
  t.true(
    await eventually(() => existsSync(join(v.exported, 'offline.txt')), 60_000),
    'synced once the key worked again',
  );
});

serial(`the share's sshfs process dies: served from the cache, offline${skipped}`, async (t) => {
  const v = await sshfsVolume(t, fill, { TETHER_PULL_MS: '500', TETHER_DEADLINE_MS: '10000' });
  t.true(await cacheIt(v), 'cached before the share fails');
  const pid = sshfsPid(v.share);
  t.truthy(pid, 'the sshfs process is found');
  if (pid !== undefined) process.kill(pid, 'SIGKILL');
  const lost = await sh(`ls ${v.share}`, 10_000);
  // ENOTCONN once the kernel has seen the connection end; ECONNABORTED for a request that was
  // in flight as it ended.
  t.regex(lost.stderr, /Transport endpoint is not connected|Software caused connection abort/);
  await servedFromCache(t, v);
  spawnSync('fusermount', ['-uz', v.share]);
});

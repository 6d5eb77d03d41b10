// Online, through the kernel: writes reach the server shortly after close (and before fsync
// returns), the server's edits appear in the mount within a couple of seconds, content is
// fetched on first read; a flush never overwrites a server change it did not see; a remote
// that fails takes the volume offline without failing the application.
import test from 'ava';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cannotMount, eventually, mounted, sh, tetherRun } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

serial(`online: writes go to the server, server edits come to the mount${skipped}`, async (t) => {
  const v = await mounted(t, (r) => {
    writeFileSync(join(r, 'a.txt'), 'one\n');
    writeFileSync(join(r, 'b.txt'), 'bee\n');
  });
  const m = v.mnt;
  const state = async (p: string): Promise<string> =>
    (await sh(`getfattr --only-values -n user.tether.state ${m}/${p}`)).stdout;

  // Fetched on first read, then cached.
  t.is(await state('a.txt'), 'remote-only');
  t.is((await sh(`cat ${m}/a.txt`)).stdout, 'one\n');
  t.is(await state('a.txt'), 'cached');

  // A write reaches the server shortly after close.
  t.is((await sh(`printf new > ${m}/w.txt`)).status, 0);
  t.true(
    await eventually(
      () =>
        existsSync(join(v.remote, 'w.txt')) &&
        readFileSync(join(v.remote, 'w.txt'), 'utf8') === 'new',
    ),
  );
  // fsync answers only after a flush that covers it.
  const synced = await sh(`printf synced | dd of=${m}/f.txt conv=fsync status=none`);
  t.is(synced.status, 0, synced.stderr);
  t.is(readFileSync(join(v.remote, 'f.txt'), 'utf8'), 'synced');

  // The server's edits appear: to a cached file, to a remote-only one, and a new file.
  writeFileSync(join(v.remote, 'a.txt'), 'two\n');
  writeFileSync(join(v.remote, 'b.txt'), 'bee two\n');
  writeFileSync(join(v.remote, 'c.txt'), 'sea\n');
  t.true(await eventually(async () => (await sh(`cat ${m}/a.txt`)).stdout === 'two\n'));
  t.true(await eventually(async () => (await sh(`cat ${m}/b.txt`)).stdout === 'bee two\n'));
  t.true(await eventually(async () => (await sh(`cat ${m}/c.txt`)).stdout === 'sea\n'));
  const status = JSON.parse((await tetherRun(['status', m, '--json'])).stdout) as { mode: string };
  t.is(status.mode, 'online');
});

serial(`online: a directory's owner reaches the server and stays${skipped}`, async (t) => {
  // As root the daemon gives a new server directory its recorded owner, as it does a file;
  // else the next pull reads the server's owner back into the mount.
  const v = await mounted(t, () => undefined, { TETHER_PULL_MS: '300' });
  if (process.getuid?.() !== 0) {
    t.pass('needs root');
    return;
  }
  const m = v.mnt;
  const made = await sh(
    `mkdir ${m}/d && chown 65534:65534 ${m}/d && printf x | dd of=${m}/d/f conv=fsync status=none`,
  );
  t.is(made.status, 0, made.stderr);
  t.true(await eventually(() => existsSync(join(v.remote, 'd', 'f'))));
  t.is(statSync(join(v.remote, 'd')).uid, 65534);
  await new Promise((r) => setTimeout(r, 1500)); // several pulls
  t.is((await sh(`stat -c %u:%g ${m}/d`)).stdout.trim(), '65534:65534');
});

serial(`online: a flush never overwrites a server change it did not see${skipped}`, async (t) => {
  // No periodic pull: the flush is the first to see the server's edit.
  const v = await mounted(
    t,
    (r) => {
      writeFileSync(join(r, 'n.txt'), 'base\n');
    },
    {
      TETHER_PULL_MS: '600000',
    },
  );
  writeFileSync(join(v.remote, 'n.txt'), 'server\n');
  const w = await sh(`printf 'mine\\n' | dd of=${v.mnt}/n.txt conv=fsync status=none`);
  t.is(w.status, 0, w.stderr);
  t.is(readFileSync(join(v.remote, 'n.txt'), 'utf8'), 'server\n');
  t.false(readdirSync(v.remote).some((n) => n.includes('conflict-local')));
  const names = (await sh(`ls ${v.mnt}`)).stdout.split('\n');
  const variant = names.find((n) => n.startsWith('n.conflict-local-'));
  t.truthy(variant, names.join(' '));
  t.is((await sh(`cat ${v.mnt}/${variant ?? ''}`)).stdout, 'mine\n');
  t.is((await sh(`cat ${v.mnt}/n.txt`)).stdout, 'server\n');
  t.regex((await tetherRun(['conflicts', v.mnt])).stdout, /edit\/edit\tn\.txt/);
});

serial(
  `online: a remote failure takes the volume offline, the change stays${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        writeFileSync(join(r, 'k.txt'), 'k\n');
      },
      {
        TETHER_PULL_MS: '600000',
      },
    );
    const away = v.remote + '.away';
    renameSync(v.remote, away);
    t.teardown(() => {
      if (existsSync(away)) renameSync(away, v.remote);
    });
    const w = await sh(`printf kept > ${v.mnt}/x.txt && sync`);
    t.is(w.status, 0, w.stderr);
    t.true(
      await eventually(async () => {
        const s = await tetherRun(['status', v.mnt, '--json']);
        return s.status === 0 && (JSON.parse(s.stdout) as { mode: string }).mode === 'offline';
      }),
    );
    t.is((await sh(`cat ${v.mnt}/x.txt`)).stdout, 'kept');
    renameSync(away, v.remote);
    const online = await tetherRun(['online', v.mnt]);
    t.is(online.status, 0, online.stdout + online.stderr);
    t.is(readFileSync(join(v.remote, 'x.txt'), 'utf8'), 'kept');
  },
);

serial(`online: a volume mounted on an empty remote fills it${skipped}`, async (t) => {
  const v = await mounted(t, () => undefined, { TETHER_PULL_MS: '600000' });
  const w = await sh(
    `mkdir ${v.mnt}/d && printf first > ${v.mnt}/d/f.txt && sync ${v.mnt}/d/f.txt`,
  );
  t.is(w.status, 0, w.stderr);
  t.true(await eventually(() => existsSync(join(v.remote, 'd', 'f.txt'))));
  const status = JSON.parse((await tetherRun(['status', v.mnt, '--json'])).stdout) as {
    mode: string;
  };
  t.is(status.mode, 'online');
});

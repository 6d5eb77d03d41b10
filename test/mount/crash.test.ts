// kill -9 of a volume's daemon: during offline writes, and during a reconnect. The next
// `tether mount` of the same store cleans up the dead mount and recovers; nothing that was
// closed is lost, a reconnect killed at any instant is finished by the next one (no second
// variant), and the store verifies.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN } from '../cli/run.js';
import { cannotMount, eventually, mounted, run, sh, tetherRun, type Volume } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

async function killDaemon(v: Volume): Promise<void> {
  const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await eventually(() => !existsSync(`/proc/${pid}`));
}

const remount = (v: Volume): ReturnType<typeof tetherRun> =>
  tetherRun(['mount', v.remote, v.mnt, '--store', v.store], 60_000, {
    ...process.env,
    TETHER_PULL_MS: '600000',
  });

serial(`kill -9 during offline writes: the remount has every closed file${skipped}`, async (t) => {
  const v = await mounted(
    t,
    (r) => {
      writeFileSync(join(r, 'a.txt'), 'a\n');
    },
    {
      TETHER_PULL_MS: '600000',
    },
  );
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  const w = await sh(
    `mkdir ${v.mnt}/d && for i in $(seq 1 50); do echo "file $i" > ${v.mnt}/d/f$i.txt; done && echo edited > ${v.mnt}/a.txt`,
  );
  t.is(w.status, 0, w.stderr);
  await killDaemon(v);

  const r = await remount(v);
  t.is(r.status, 0, r.stderr);
  t.is((await sh(`cat ${v.mnt}/d/f50.txt ${v.mnt}/a.txt`)).stdout, 'file 50\nedited\n');
  const status = JSON.parse((await tetherRun(['status', v.mnt, '--json'])).stdout) as {
    mode: string;
  };
  t.is(status.mode, 'offline', 'the mode survives the daemon');
  const online = await tetherRun(['online', v.mnt]);
  t.is(online.status, 0, online.stdout + online.stderr);
  t.is(readdirSync(join(v.remote, 'd')).length, 50);
  t.is(readFileSync(join(v.remote, 'a.txt'), 'utf8'), 'edited\n');
  await v.unmount();
  const fsck = await tetherRun(['fsck', '--store', v.store]);
  t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
});

serial(
  `kill -9 during a reconnect: the next one finishes it, no second variant${skipped}`,
  async (t) => {
    const v = await mounted(
      t,
      (r) => {
        for (let i = 0; i < 20; i++) writeFileSync(join(r, `c${i}.txt`), `base ${i}\n`);
      },
      { TETHER_PULL_MS: '600000' },
    );
    let killed = 0;
    for (let round = 0; round < 4 && killed === 0; round++) {
      t.is((await tetherRun(['offline', v.mnt])).status, 0);
      // Both sides change: new files here, and every c*.txt on both sides (conflicts).
      const w = await sh(
        `mkdir -p ${v.mnt}/r${round} && for i in $(seq 1 300); do echo "$i" > ${v.mnt}/r${round}/n$i.txt; done && ` +
          `for i in $(seq 0 19); do echo "local ${round} $i" > ${v.mnt}/c$i.txt; done`,
        60_000,
      );
      t.is(w.status, 0, w.stderr);
      for (let i = 0; i < 20; i++)
        writeFileSync(join(v.remote, `c${i}.txt`), `server ${round} ${i}\n`);
      const online = run(process.execPath, [MAIN, 'online', v.mnt], 60_000);
      await new Promise((r) => setTimeout(r, 150 + round * 200));
      await killDaemon(v);
      const o = await online;
      if (o.status !== 0 && o.status !== 3) killed++;
      const r = await remount(v);
      t.is(r.status, 0, r.stderr);
    }
    t.true(killed > 0, 'a reconnect was killed midway');
    const again = await tetherRun(['online', v.mnt]);
    t.is(again.status, 3, again.stdout + again.stderr); // the c*.txt conflicts remain
    // Each round's local edit is kept once: a resumed run makes no second variant of it.
    const mine = readdirSync(join(v.store, 'local'));
    for (let i = 0; i < 20; i++) {
      const variants = mine.filter((n) => n.startsWith(`c${i}.conflict-local-`));
      const contents = variants.map((n) => readFileSync(join(v.store, 'local', n), 'utf8'));
      t.true(variants.length >= 1, `c${i} has a variant`);
      t.is(new Set(contents).size, contents.length, `c${i}: ${contents.join(' | ')}`);
    }
    for (const d of readdirSync(v.remote).filter((n) => /^r\d$/.test(n))) {
      t.is(readdirSync(join(v.remote, d)).length, 300, d);
    }
    t.false(readdirSync(v.remote).some((n) => n.includes('conflict-local')));
    const sync = await tetherRun(['sync', v.mnt, '--dry-run', '--json']);
    t.is((JSON.parse(sync.stdout) as { plan: { actions: unknown[] } }).plan.actions.length, 0);
    await v.unmount();
    const fsck = await tetherRun(['fsck', '--store', v.store]);
    t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
  },
);

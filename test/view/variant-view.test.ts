// Variant views of a real conflict through the kernel: each side's version under the
// canonical name, in its own mount and in the volume's hidden `.tether/` tree (hidden from
// listings, found by name, read-only), following the volume when the conflict is resolved.
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cannotMount, eventually, mounted, sh, tetherRun, type Volume } from '../mount/harness.js';
import { mountView, viewDirAt } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const SIDES = ['local', 'server', 'base'] as const;
const WANT = { local: 'local\n', server: 'server\n', base: 'base\n' };

/**
 * A volume with a conflict on notes.txt: base "base", local "local" (written offline), server
 * "server"; keep.txt unchanged on every side.
 */
async function conflicted(t: ExecutionContext): Promise<Volume> {
  const v = await mounted(
    t,
    (r) => {
      writeFileSync(join(r, 'notes.txt'), 'base\n');
      writeFileSync(join(r, 'keep.txt'), 'keep\n');
    },
    { TETHER_PULL_MS: '300' },
  );
  t.is((await sh(`cat ${v.mnt}/notes.txt ${v.mnt}/keep.txt`)).stdout, 'base\nkeep\n');
  // Base learns the content id of what was fetched a moment after the fetch (its view shows
  // it as user.tether.id); offline edits then leave base's bytes in the store.
  const learnt = await eventually(
    async () =>
      (await sh(`getfattr -n user.tether.id ${v.mnt}/.tether/variants/base/notes.txt`)).status ===
      0,
  );
  t.true(learnt, 'base has the fetched bytes');
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  t.is((await sh(`echo local > ${v.mnt}/notes.txt`)).status, 0);
  // Offline, the local side is the mount as it is now; base is still the last synced tree.
  t.is((await sh(`cat ${v.mnt}/.tether/variants/local/notes.txt`)).stdout, 'local\n');
  t.is((await sh(`cat ${v.mnt}/.tether/variants/base/notes.txt`)).stdout, 'base\n');
  writeFileSync(join(v.remote, 'notes.txt'), 'server\n');
  const online = await tetherRun(['online', v.mnt]);
  t.is(online.status, 3, online.stdout + online.stderr);

  return v;
}

serial(
  `variant views show each side of a conflict, and follow its resolution${skipped}`,
  async (t) => {
    const v = await conflicted(t);

    const views = Object.fromEntries(
      await Promise.all(
        SIDES.map(async (side) => {
          const m = await mountView(t, join(v.dir, `view-${side}`), [
            '--variant',
            side,
            '--of',
            v.mnt,
          ]);
          t.is(m.mounted.status, 0, m.mounted.stderr);
          return [side, m.mnt] as const;
        }),
      ),
    );
    for (const side of SIDES) {
      for (const root of [views[side]!, `${v.mnt}/.tether/variants/${side}`]) {
        t.is((await sh(`cat ${root}/notes.txt`)).stdout, WANT[side], `${side} at ${root}`);
        // No variant names: every side shows the volume's paths under their canonical names.
        t.is((await sh(`ls -a ${root}`)).stdout, '.\n..\nkeep.txt\nnotes.txt\n', root);
        t.is((await sh(`cat ${root}/keep.txt`)).stdout, 'keep\n');
      }
      const w = await sh(`echo x > ${views[side]!}/notes.txt`);
      t.regex(w.stderr, /Read-only file system/);
    }
    // The volume itself shows the server's version and the local variant beside it.
    t.regex((await sh(`ls ${v.mnt}`)).stdout, /notes\.conflict-local-/);

    const resolved = await tetherRun(['resolve', `${v.mnt}/notes.txt`, '--take', 'local']);
    t.is(resolved.status, 0, resolved.stderr);
    for (const side of SIDES) {
      const root = views[side]!;
      const follows = await eventually(
        async () => (await sh(`cat ${root}/notes.txt`)).stdout === 'local\n',
        15_000,
      );
      t.true(
        follows,
        `${side} view after the resolve: ${(await sh(`cat ${root}/notes.txt`)).stdout}`,
      );
      t.is((await sh(`ls ${root}`)).stdout, 'keep.txt\nnotes.txt\n');
    }
  },
);

serial(`.tether/ is hidden from listings, found by name, and read-only${skipped}`, async (t) => {
  const v = await mounted(t, (r) => {
    writeFileSync(join(r, 'a.txt'), 'a\n');
    mkdirSync(join(r, 'd'));
    writeFileSync(join(r, 'd', 'b.txt'), 'b\n');
  });
  const m = v.mnt;
  t.is((await sh(`ls -a ${m}`)).stdout, '.\n..\na.txt\nd\n');
  t.notRegex((await sh(`find ${m}`)).stdout, /\.tether/);
  t.notRegex((await sh(`du -a ${m}`)).stdout, /\.tether/);
  const git = await sh(`cd ${m} && git init -q && git status --porcelain --ignored`);
  t.is(git.status, 0, git.stderr);
  t.notRegex(git.stdout, /\.tether/);
  t.is((await sh(`ls ${m}/.tether`)).stdout, 'snapshots\nvariants\n');
  t.is((await sh(`ls ${m}/.tether/variants`)).stdout, 'base\nlocal\nserver\n');
  // Never fetched: no side has its bytes, until the mount fetches it.
  const never = await sh(`cat ${m}/.tether/variants/base/d/b.txt`);
  t.regex(never.stderr, /No data available/);
  t.regex((await tetherRun(['why', `${m}/.tether/variants/base/d/b.txt`])).stdout, /EDISCONDATA/);
  t.is((await sh(`cat ${m}/d/b.txt`)).stdout, 'b\n');
  t.is((await sh(`cat ${m}/.tether/variants/base/d/b.txt`)).stdout, 'b\n');
  t.is((await sh(`ls ${m}/.tether/snapshots`)).stdout, '');
  for (const cmd of [
    `echo x > ${m}/.tether/variants/local/a.txt`,
    `mkdir ${m}/.tether/mine`,
    `touch ${m}/.tether/snapshots/s`,
    `rm -r ${m}/.tether/variants/local/d`,
    `mv ${m}/a.txt ${m}/.tether/a.txt`,
  ]) {
    const r = await sh(cmd);
    t.not(r.status, 0, cmd);
    t.regex(r.stderr, /Read-only file system/, cmd);
  }
  t.is((await sh(`cat ${m}/a.txt`)).stdout, 'a\n');

  // A snapshot shows up at once, with the same bytes as its own view. The remote is taken once
  // the volume has sent it everything (git's files reach it by background flushes).
  t.is((await tetherRun(['sync', m])).status, 0);
  const take = await tetherRun(['snapshot', 'take', 's1', '--of', v.remote, '--store', v.store]);
  t.is(take.status, 0, take.stderr);
  t.is((await sh(`ls ${m}/.tether/snapshots`)).stdout, 's1\n');
  const view = await mountView(t, join(v.dir, 'snap'), ['--snapshot', 's1', '--of', m]);
  t.is(view.mounted.status, 0, view.mounted.stderr);
  const same = await sh(
    `diff -r ${m}/.tether/snapshots/s1 ${view.mnt} && diff -r ${v.remote} ${view.mnt}`,
  );
  t.is(same.status, 0, same.stdout + same.stderr);

  // The local variant follows the volume within the follow interval (local-follow.test.ts).
  t.is((await sh(`cat ${m}/.tether/variants/local/a.txt`)).stdout, 'a\n');
  t.is((await sh(`ls ${m}/.tether/variants/local`)).stdout.includes('new.txt'), false);
  t.is((await sh(`echo changed > ${m}/a.txt && echo n > ${m}/new.txt`)).status, 0);
  t.true(
    await eventually(
      async () => (await sh(`cat ${m}/.tether/variants/local/a.txt`)).stdout === 'changed\n',
    ),
  );
  t.true(
    await eventually(async () =>
      (await sh(`ls ${m}/.tether/variants/local`)).stdout.includes('new.txt'),
    ),
  );
});

serial(`a server's own .tether is shadowed, and why says so${skipped}`, async (t) => {
  const v = await mounted(t, (r) => {
    mkdirSync(join(r, '.tether'));
    writeFileSync(join(r, '.tether', 'own.txt'), 'the server keeps this\n');
  });
  t.is((await sh(`ls -a ${v.mnt}`)).stdout, '.\n..\n');
  t.is((await sh(`ls ${v.mnt}/.tether`)).stdout, 'snapshots\nvariants\n');
  const why = await tetherRun(['why', join(v.mnt, '.tether')]);
  t.regex(why.stdout, /ESHADOWED/);
  // The server's entry is still the volume's: the local side shows it.
  t.is((await sh(`ls ${v.mnt}/.tether/variants/base/.tether`)).stdout, 'own.txt\n');
});

serial(
  `a process reading a variant view over and over sees the resolution when it comes${skipped}`,
  async (t) => {
    const v = await conflicted(t);
    const view = await mountView(t, join(v.dir, 'view-server'), [
      '--variant',
      'server',
      '--of',
      v.mnt,
    ]);
    t.is(view.mounted.status, 0, view.mounted.stderr);
    // The server side in its own mount, and in the volume's `.tether/`: both kept by the kernel.
    const files = [join(view.mnt, 'notes.txt'), `${v.mnt}/.tether/variants/server/notes.txt`];
    for (const f of files) t.is((await sh(`cat ${f}`)).stdout, 'server\n', f);
    // A process per file stats and reads it every 50 ms (the kernel answers from what it keeps)
    // until it reads the resolved content, for at most 30 s: stale forever fails.
    const readers = files.map((f) => {
      const reader = spawn(
        'sh',
        [
          '-c',
          `n=0; while [ $n -lt 600 ]; do stat -c %s ${f} >/dev/null || exit 2; ` +
            `[ "$(cat ${f})" = local ] && exit 0; n=$((n+1)); sleep 0.05; done; exit 1`,
        ],
        { stdio: 'ignore' },
      );
      t.teardown(() => reader.kill('SIGKILL'));
      return new Promise<number | null>((r) => reader.on('exit', r));
    });
    const resolved = await tetherRun(['resolve', `${v.mnt}/notes.txt`, '--take', 'local']);
    t.is(resolved.status, 0, resolved.stderr);
    const at = Date.now();
    for (const [i, exited] of readers.entries()) {
      t.is(await exited, 0, `the reader of ${files[i]!} saw the resolved content`);
      t.log(`${files[i]!}: seen ${String(Date.now() - at)} ms after the resolve returned`);
    }
    for (const f of files) t.is((await sh(`cat ${f}`)).stdout, 'local\n', f);
  },
);

serial(
  `repeated stats of a server view and of a local view are answered by the kernel${skipped}`,
  async (t) => {
    const v = await mounted(t, (r) => {
      writeFileSync(join(r, 'a.txt'), 'a\n');
    });
    const asked: Record<string, number> = {};
    for (const side of ['server', 'local']) {
      const env = { ...process.env };
      process.env['TETHER_FUSE_TRACE'] = '1';
      const m = await mountView(t, join(v.dir, `view-${side}`), ['--variant', side, '--of', v.mnt]);
      process.env = env;
      t.is(m.mounted.status, 0, m.mounted.stderr);
      const dir = viewDirAt(m.mnt);
      if (dir === undefined) return t.fail(`no view daemon at ${m.mnt}`);
      const stats = await sh(
        `for i in $(seq 200); do stat ${m.mnt}/a.txt >/dev/null || exit 1; done`,
      );
      t.is(stats.status, 0, stats.stderr);
      t.is((await m.unmount()).status, 0);
      // The daemon writes how many requests of each kind reached it when its session ends.
      const log = readFileSync(join(dir, 'daemon.log'), 'utf8');
      t.regex(log, /requests: /);
      const count = (op: string): number =>
        Number(new RegExp(`\\b${op} (\\d+)`).exec(log)?.[1] ?? 0);
      asked[side] = count('getattr') + count('lookup');
    }
    t.log(`lookups and getattrs for 200 stats: ${JSON.stringify(asked)}`);
    t.true(asked['server']! < 10, `server view: ${String(asked['server'])}`);
    t.true(asked['local']! < 10, `local view: ${String(asked['local'])}`);
  },
);

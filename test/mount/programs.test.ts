// Real programs in the mount, online and offline: git, tar, cp -a, rsync -a, and an editor's
// save (write a temporary file, rename it over the original). What they leave must reach the
// server, whole, once the volume is online.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, mounted, sh, tetherRun } from './harness.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const why =
  cannotMount ??
  (['git', 'tar', 'rsync'].every(has) ? undefined : 'git, tar or rsync is not installed');
const serial = why === undefined ? test.serial : test.serial.skip;
const skipped = why === undefined ? '' : ` (skipped: ${why})`;

const GIT = 'git -c user.name=t -c user.email=t@example.org -c init.defaultBranch=main';

async function workload(m: string, dir: string): Promise<void> {
  const script = [
    `set -e`,
    `mkdir -p ${m}/${dir} && cd ${m}/${dir}`,
    `${GIT} init -q repo && cd repo && echo one > a.txt && mkdir src && echo 'int main;' > src/m.c`,
    `${GIT} add -A && ${GIT} commit -qm first && echo two >> a.txt && ${GIT} commit -qam second`,
    `test -z "$(${GIT} status --porcelain)"`,
    `cd .. && tar cf t.tar -C repo . && mkdir x && tar xf t.tar -C x`,
    `cp -a x cp && rsync -a x/ rs/`,
    // An editor's save: the new text in a temporary file, renamed over the original.
    `printf 'saved ${dir}\\n' > ${m}/doc.txt.swp && mv ${m}/doc.txt.swp ${m}/doc.txt`,
  ].join('\n');
  const r = await sh(script, 120_000);
  if (r.status !== 0) throw new Error(`${dir}: ${r.stderr}`);
}

function check(t: import('ava').ExecutionContext, remote: string, dir: string): void {
  const log = execFileSync('git', ['-C', join(remote, dir, 'repo'), 'log', '--format=%s'], {
    encoding: 'utf8',
  });
  t.is(log, 'second\nfirst\n', dir);
  const fsck = spawnSync('git', ['-C', join(remote, dir, 'repo'), 'fsck', '--no-progress']);
  t.is(fsck.status, 0, fsck.stderr.toString());
  for (const copy of ['x', 'cp', 'rs']) {
    t.is(readFileSync(join(remote, dir, copy, 'a.txt'), 'utf8'), 'one\ntwo\n', `${dir}/${copy}`);
    t.is(readFileSync(join(remote, dir, copy, 'src', 'm.c'), 'utf8'), 'int main;\n');
  }
  t.is(readFileSync(join(remote, 'doc.txt'), 'utf8'), `saved ${dir}\n`);
}

serial(
  `git, tar, cp -a, rsync -a and an editor's save, online and offline${skipped}`,
  async (t) => {
    const v = await mounted(t, (r) => {
      writeFileSync(join(r, 'doc.txt'), 'draft\n');
      mkdirSync(join(r, 'keep'));
      writeFileSync(join(r, 'keep', 'k'), 'k\n');
    });
    await workload(v.mnt, 'on');
    const synced = await tetherRun(['sync', v.mnt]);
    t.is(synced.status, 0, synced.stdout + synced.stderr);
    check(t, v.remote, 'on');

    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    await workload(v.mnt, 'off');
    t.is((await sh(`cd ${v.mnt}/off/repo && ${GIT} status --porcelain`)).stdout, '');
    const online = await tetherRun(['online', v.mnt]);
    t.is(online.status, 0, online.stdout + online.stderr);
    check(t, v.remote, 'off');
    t.is((await sh(`cd ${v.mnt}/off/repo && ${GIT} status --porcelain`)).stdout, '');
  },
);

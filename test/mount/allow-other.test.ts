// Who may enter a mount: only the user who mounted it, unless `--allow-other` is given; then the
// kernel checks every other user's access against the files' modes and owners
// (default_permissions), online and offline.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cannotMount, mounted, run, tetherRun, type Ran } from './harness.js';

const NOBODY = 65534;

/** A shell command as the unprivileged user, with a deadline (the mount may not answer). */
const asNobody = (script: string): Promise<Ran> =>
  run('sh', ['-c', script], 20_000, process.env, { uid: NOBODY, gid: NOBODY });

function fill(remote: string): void {
  writeFileSync(join(remote, 'open.txt'), 'for everyone\n');
  chmodSync(join(remote, 'open.txt'), 0o644);
  writeFileSync(join(remote, 'secret.txt'), 'root only\n');
  chmodSync(join(remote, 'secret.txt'), 0o600);
  mkdirSync(join(remote, 'shared'));
  chmodSync(join(remote, 'shared'), 0o777);
  mkdirSync(join(remote, 'theirs'));
  chownSync(join(remote, 'theirs'), NOBODY, NOBODY);
}

/** The mount's parent directories must be enterable by the other user for any of this. */
function openPath(dir: string): void {
  chmodSync(dir, 0o755);
}

test.serial('without --allow-other, another user cannot enter the mount', async (t) => {
  if (cannotMount !== undefined) return t.pass(`skipped: ${cannotMount}`);
  const v = await mounted(t, fill);
  openPath(v.dir);
  const r = await asNobody(`ls ${v.mnt}`);
  t.false(r.timedOut);
  t.not(r.status, 0);
  t.regex(r.stderr, /Permission denied/);
});

for (const mode of ['online', 'offline'] as const) {
  test.serial(`with --allow-other, the kernel checks modes and owners (${mode})`, async (t) => {
    if (cannotMount !== undefined) return t.pass(`skipped: ${cannotMount}`);
    const v = await mounted(t, fill, {}, ['--allow-other']);
    openPath(v.dir);
    // Content must be in the cache before going offline to be readable there.
    t.is((await asNobody(`cat ${v.mnt}/open.txt`)).stdout, 'for everyone\n');
    if (mode === 'offline') t.is((await tetherRun(['offline', v.mnt])).status, 0);

    t.is((await asNobody(`cat ${v.mnt}/open.txt`)).stdout, 'for everyone\n');
    const secret = await asNobody(`cat ${v.mnt}/secret.txt`);
    t.not(secret.status, 0);
    t.regex(secret.stderr, /Permission denied/);
    const overwrite = await asNobody(`echo x > ${v.mnt}/open.txt`);
    t.not(overwrite.status, 0);
    t.regex(overwrite.stderr, /Permission denied/);
    const rootDir = await asNobody(`touch ${v.mnt}/new.txt`);
    t.not(rootDir.status, 0);

    // Where the modes allow it, the other user works, and owns what it makes.
    const made = await asNobody(
      `echo mine > ${v.mnt}/shared/mine.txt && echo ok > ${v.mnt}/theirs/f && stat -c %u:%g ${v.mnt}/shared/mine.txt`,
    );
    t.is(made.status, 0, made.stderr);
    t.is(made.stdout.trim(), `${NOBODY}:${NOBODY}`);
  });
}

// Creates the session thread answers itself (native/lowlevel_create.c, lowlevel-created.ts):
// a new file in a directory the kernel has looked up is made without a trip to JavaScript.
// What a create through the handlers did must still hold: the file is the caller's, with the
// mode asked for less the umask, reachable by every later request (write, rename, link,
// unlink), noted as a change (flushed once online), refused where the name is taken (O_EXCL),
// and not made while the cache is full. The modes and times set through such a file's
// descriptor (an untar's futimens and fchmod) are the session thread's too, and noted.
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, kernelCounts, mounted, requestCounts, sh, tetherRun } from './harness.js';
import { events, limitedVolume } from './cache-limit.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

serial(
  `creates in a directory are the session thread's, and everything after them holds${skipped}`,
  async (t) => {
    const v = await mounted(t, () => undefined, {
      TETHER_PULL_MS: '600000',
      TETHER_FUSE_TRACE: '1',
    });
    const m = v.mnt;
    t.is((await tetherRun(['offline', m])).status, 0);
    const w = await sh(
      `umask 027 && mkdir ${m}/d && for i in $(seq 1 40); do echo "file $i" > ${m}/d/f$i; done && ` +
        `stat -c '%a %u %s' ${m}/d/f7 && cat ${m}/d/f40 && ` +
        // O_EXCL on a name made here: refused, and the file is untouched.
        `( (set -C; echo clobbered > ${m}/d/f1) 2>/dev/null || echo refused ) && cat ${m}/d/f1 && ` +
        `mv ${m}/d/f2 ${m}/d/moved && ln ${m}/d/f3 ${m}/d/linked && rm ${m}/d/f4 && ` +
        `echo more >> ${m}/d/linked && stat -c %h ${m}/d/f3 && ls ${m}/d | wc -l`,
    );
    t.is(w.status, 0, w.stderr);
    t.deepEqual(w.stdout.split('\n'), [
      `640 ${String(process.getuid?.() ?? 0)} 7`,
      'file 40',
      'refused',
      'file 1',
      '2',
      '40',
      '',
    ]);
    t.is((await sh(`cat ${m}/d/f3`)).stdout, 'file 3\nmore\n');
    // Noted as changes: the reconnect sends every one of them.
    const online = await tetherRun(['online', m]);
    t.is(online.status, 0, online.stdout + online.stderr);
    const remote = join(v.remote, 'd');
    t.is(readFileSync(join(remote, 'f40'), 'utf8'), 'file 40\n');
    t.is(readFileSync(join(remote, 'moved'), 'utf8'), 'file 2\n');
    t.is(readFileSync(join(remote, 'linked'), 'utf8'), 'file 3\nmore\n');
    t.is((await sh(`ls ${remote} | wc -l`)).stdout, '40\n');
    // Made online too: flushed at close.
    t.is((await sh(`echo late > ${m}/d/late`)).status, 0);
    t.is((await tetherRun(['sync', m])).status, 0);
    t.is(readFileSync(join(remote, 'late'), 'utf8'), 'late\n');
    await v.unmount();
    const n = requestCounts(v.store);
    t.true((n.get('created') ?? 0) >= 40, [...n].join(' '));
    t.is(n.get('create') ?? 0, 0, [...n].join(' '));
    const fsck = await tetherRun(['fsck', '--store', v.store]);
    t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
  },
);

/** A tarball of `files` files under t/ (f1 751 and old, f2 600, f3 old; f1–f3 given `owner` as root). */
async function untarSource(dir: string, files: number, owner: string): Promise<string> {
  const src = join(dir, 'src');
  const asRoot = process.getuid?.() === 0 ? `chown ${owner} f1 f2 f3 && ` : '';
  const made = await sh(
    `mkdir -p ${src}/t && cd ${src}/t && for i in $(seq 1 ${files}); do echo "f $i" > f$i; done && ` +
      `chmod 751 f1 && chmod 600 f2 && touch -m -d @981173106.5 f1 f3 && ${asRoot}` +
      `tar cf ${dir}/t.tar -C ${src} t`,
  );
  if (made.status !== 0) throw new Error(made.stderr);
  return join(dir, 't.tar');
}

/** What a root's untar keeps of f1–f3 (a non-root's keeps its own uid). */
const ownerShown = (owner: string): string =>
  process.getuid?.() === 0 ? owner : `${String(process.getuid?.())}:${String(process.getgid?.())}`;

serial(
  `an untar's owners, modes and times, set through each new file's descriptor, hold and are noted${skipped}`,
  async (t) => {
    const v = await mounted(t, () => undefined, {
      TETHER_PULL_MS: '600000',
      TETHER_FUSE_TRACE: '1',
    });
    const m = v.mnt;
    const files = 30;
    const tarball = await untarSource(v.dir, files, '4321:1234');
    t.is((await tetherRun(['offline', m])).status, 0);
    const x = await sh(
      `tar xf ${tarball} -C ${m} && stat -c '%a %Y %u:%g' ${m}/t/f1 ${m}/t/f2 ${m}/t/f3`,
    );
    t.is(x.status, 0, x.stderr);
    const own = ownerShown('4321:1234');
    const [f1, f2, f3] = x.stdout.trim().split('\n');
    t.is(f1, `751 981173106 ${own}`);
    t.is(f2?.split(' ')[0], '600');
    t.is(f2?.split(' ')[2], own);
    t.is(f3, `644 981173106 ${own}`);
    // In the volume's local view (what the journal and the reconnect read) as in the mount.
    const status = await tetherRun(['status', m, '--json']);
    t.is(status.status, 0, status.stderr);
    t.regex(status.stdout, /t\/f1/);
    const online = await tetherRun(['online', m]);
    t.is(online.status, 0, online.stdout + online.stderr);
    const remote = await sh(
      `stat -c '%a %Y %u:%g' ${v.remote}/t/f1 ${v.remote}/t/f3 && cat ${v.remote}/t/f${files}`,
    );
    t.is(remote.stdout, `751 981173106 ${own}\n644 981173106 ${own}\nf ${files}\n`, remote.stderr);
    await v.unmount();
    const n = requestCounts(v.store);
    // Offline, every setattr of a file it made (tar's fchown too, as root) is the session
    // thread's: only the directory's owner, mode and times (set by name) reach the handlers.
    t.true((n.get('created') ?? 0) >= files, [...n].join(' '));
    t.true((n.get('setattr') ?? 0) <= 3, [...n].join(' '));
    t.true((kernelCounts(v.store).get('setattr') ?? 0) >= 2 * files, [...n].join(' '));
  },
);

serial(
  `online, the owner an untar sets still reaches the handlers (the server's first), and holds${skipped}`,
  async (t) => {
    const v = await mounted(t, () => undefined, {
      TETHER_PULL_MS: '600000',
      TETHER_FUSE_TRACE: '1',
    });
    const m = v.mnt;
    const files = 20;
    const tarball = await untarSource(v.dir, files, '4321:1234');
    // Offline and back: the session thread set owners for a while, and must have stopped.
    t.is((await tetherRun(['offline', m])).status, 0);
    t.is((await tetherRun(['online', m])).status, 0);
    const x = await sh(`tar xf ${tarball} -C ${m} && stat -c '%a %u:%g' ${m}/t/f1 ${m}/t/f2`);
    t.is(x.status, 0, x.stderr);
    const own = ownerShown('4321:1234');
    t.is(x.stdout, `751 ${own}\n600 ${own}\n`);
    t.is((await tetherRun(['sync', m])).status, 0);
    const remote = await sh(`stat -c '%a %u:%g' ${v.remote}/t/f1 ${v.remote}/t/f2`);
    t.is(remote.stdout, `751 ${own}\n600 ${own}\n`, remote.stderr);
    await v.unmount();
    const n = requestCounts(v.store);
    // As root, each file's fchown went to the handlers.
    const chowns = process.getuid?.() === 0 ? files : 0;
    t.true((n.get('setattr') ?? 0) >= chowns, [...n].join(' '));
  },
);

serial(
  `the notes of an untar's creates and releases reach JavaScript many to a wake-up, ahead of what follows${skipped}`,
  async (t) => {
    const v = await mounted(t, () => undefined, {
      TETHER_PULL_MS: '600000',
      TETHER_FUSE_TRACE: '1',
    });
    const m = v.mnt;
    const files = 300;
    const tarball = await untarSource(v.dir, files, '4321:1234');
    t.is((await tetherRun(['offline', m])).status, 0);
    // The last file's release is noted before the status that follows the untar is answered.
    const x = await sh(`tar xf ${tarball} -C ${m} && rm ${m}/t/f1 && echo late > ${m}/t/late`);
    t.is(x.status, 0, x.stderr);
    const status = await tetherRun(['status', m, '--json']);
    t.regex(status.stdout, /t\/late/);
    t.is(
      (await sh(`cat ${m}/t/late ${m}/t/f${files} && ls ${m}/t | wc -l`)).stdout,
      `late\nf ${files}\n${files}\n`,
    );
    await v.unmount();
    const kernel = kernelCounts(v.store);
    const n = requestCounts(v.store);
    const all = `${[...kernel].join(' ')}; ${[...n].join(' ')}`;
    // Every release was the session thread's to answer, and JavaScript still took each one.
    t.true((n.get('release') ?? 0) >= files, all);
    t.true((n.get('created') ?? 0) >= files, all);
    // Two notes a file, in fewer wake-ups than files.
    const batches = kernel.get('notes') ?? 0;
    t.true(batches > 0 && batches < files, all);
  },
);

serial(
  `offline with the cache full of changes, a create in a directory is refused (ENOSPC)${skipped}`,
  async (t) => {
    const FILE = 512 * 1024;
    const { v } = await limitedVolume(t, () => undefined, 5 * FILE);
    const m = v.mnt;
    t.is((await tetherRun(['offline', m])).status, 0);
    const w = await sh(
      `mkdir ${m}/d && for i in $(seq 1 30); do head -c ${FILE} /dev/urandom > ${m}/d/f$i || exit $i; ` +
        `md5sum < ${m}/d/f$i > ${v.dir}/f$i.md5; done`,
    );
    t.true(w.status > 1 && w.status <= 30, `a create was refused (exit ${w.status}): ${w.stderr}`);
    t.regex(w.stderr, /No space left on device/);
    const why = await tetherRun(['why', join(m, 'd', `f${w.status}`)]);
    t.regex(why.stdout, /EDISCONFULL/);
    t.true((await events(m)).some((e) => e.type === 'cache-full'));
    for (let i = 1; i < w.status; i++) {
      const now = await sh(`md5sum < ${m}/d/f${i}`);
      t.is(now.stdout, readFileSync(join(v.dir, `f${i}.md5`), 'utf8'), `f${i} intact`);
    }
  },
);

serial(
  `creates in the mount's root are the session thread's too, and the hidden tree stays${skipped}`,
  async (t) => {
    const v = await mounted(t, () => undefined, {
      TETHER_PULL_MS: '600000',
      TETHER_FUSE_TRACE: '1',
    });
    const m = v.mnt;
    t.is((await tetherRun(['offline', m])).status, 0);
    const w = await sh(
      `umask 027 && for i in $(seq 1 30); do echo "top $i" > ${m}/t$i; done && ` +
        `stat -c '%a %u %s' ${m}/t9 && cat ${m}/t30 && ` +
        `( (set -C; echo clobbered > ${m}/t1) 2>/dev/null || echo refused ) && cat ${m}/t1 && ` +
        // The hidden tree is found by name, and no file is made in its place.
        `test -d ${m}/.tether/snapshots && ( { echo y > ${m}/.tether; } 2>/dev/null || echo kept ) && ` +
        `ls ${m} | wc -l`,
    );
    t.is(w.status, 0, w.stderr);
    t.deepEqual(w.stdout.split('\n'), [
      `640 ${String(process.getuid?.() ?? 0)} 6`,
      'top 30',
      'refused',
      'top 1',
      'kept',
      '30',
      '',
    ]);
    const online = await tetherRun(['online', m]);
    t.is(online.status, 0, online.stdout + online.stderr);
    t.is(readFileSync(join(v.remote, 't30'), 'utf8'), 'top 30\n');
    t.is((await sh(`ls ${v.remote} | wc -l`)).stdout, '30\n');
    await v.unmount();
    const n = requestCounts(v.store);
    t.true((n.get('created') ?? 0) >= 30, [...n].join(' '));
    t.is(n.get('create') ?? 0, 0, [...n].join(' '));
  },
);

serial(
  `a warm find asks the daemon nothing: the kernel opens directories and keeps their listings itself${skipped}`,
  async (t) => {
    const DIRS = 30;
    const dirs = 2 * DIRS + 1; // the root, each d and each d/sub
    /** The kernel's and JavaScript's request counts after a cold find and `warm` warm ones. */
    const walks = async (warm: number) => {
      const v = await mounted(
        t,
        (remote) => {
          for (let d = 0; d < DIRS; d++) {
            mkdirSync(join(remote, `d${String(d)}`, 'sub'), { recursive: true });
            for (let f = 0; f < 5; f++)
              writeFileSync(join(remote, `d${String(d)}`, `f${String(f)}`), 'x');
          }
        },
        { TETHER_FUSE_TRACE: '1' },
      );
      const cold = await sh(`find ${v.mnt} -mount -type d | wc -l`);
      t.is(cold.stdout, `${String(dirs)}\n`, cold.stderr);
      for (let i = 0; i < warm; i++) {
        const w = await sh(`find ${v.mnt} -mount | wc -l && find ${v.mnt} -mount -type d | wc -l`);
        t.is(w.stdout, `${String(dirs + 5 * DIRS)}\n${String(dirs)}\n`, w.stderr);
      }
      await v.unmount();
      return { kernel: kernelCounts(v.store), js: requestCounts(v.store) };
    };
    // One warm walk first: the kernel reads each directory's attributes again once after
    // listing it (a listing invalidates the directory's atime), answered natively.
    const once = await walks(1);
    const more = await walks(4);
    const all = ['once', once, 'more', more]
      .map((x) =>
        typeof x === 'string' ? x : `kernel ${[...x.kernel].join(' ')}, js ${[...x.js].join(' ')}`,
      )
      .join('; ');
    // The cold walk listed each directory in one trip to JavaScript: the kernel's readdir past
    // the last entries was answered by the session thread (it asked one per directory).
    t.true((once.kernel.get('readdir') ?? 0) >= dirs, all);
    t.true((once.js.get('readdir') ?? 0) < DIRS, all);
    // The kernel asked to open a directory once, was told it need not, and from then on
    // opened every directory itself: no opendir or releasedir per directory.
    t.true((more.kernel.get('opendir') ?? 0) <= 1, all);
    t.is(more.kernel.get('releasedir') ?? 0, 0, all);
    t.true((more.kernel.get('readdirplus') ?? 0) >= dirs, all);
    t.true((more.js.get('readdirplus') ?? 0) >= dirs, all);
    // Six more walks (two per warm round) asked nothing per directory: had each asked one
    // request per directory, the kernel would have sent 6 × dirs more.
    let extra = 0;
    for (const [kind, n] of more.kernel) {
      if (kind !== 'statfs') extra += n - (once.kernel.get(kind) ?? 0);
    }
    t.true(extra < dirs, all);
  },
);

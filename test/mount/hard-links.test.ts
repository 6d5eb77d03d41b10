// Hard links through a mounted volume (MERGE.md rule H), with a plain directory as the remote
// and over real sshfs: a link made in the mount, online or offline then reconnected, is a link
// on the server (one inode, two links, as `stat -c %i,%h` shows on the server's own disk); a
// link made on the server shows as one inode in the mount, and a write through one name is
// seen through the other; a server that refuses links gets a copy, and the sync says so.
// sshfs shows no hard links (SFTP has no inode numbers or link counts: every file has one
// link there), so a link made on the server reaches the mount as two files of the same bytes;
// so does a server link to a file the mount never fetched (a placeholder is never linked to).
import test, { type ExecutionContext } from 'ava';
import { readFileSync, statSync, writeFileSync, appendFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { cannotMount, eventually, mounted, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

/** A volume under test: its mount point, and the server's own directory (safe to touch). */
interface Under {
  readonly mnt: string;
  readonly server: string;
  readonly store: string;
}

type Maker = (t: ExecutionContext, fill: (server: string) => void) => Promise<Under>;

/** Pull often: the tests wait for the server's changes to come in. */
const FAST = { TETHER_PULL_MS: '300' };

const plain: Maker = async (t, fill) => {
  const v = await mounted(t, fill, FAST);
  return { mnt: v.mnt, server: v.remote, store: v.store };
};

const overSshfs =
  (deny: readonly string[] = []): Maker =>
  async (t, fill) => {
    const v = await sshfsVolume(t, fill, FAST, undefined, deny);
    return { mnt: v.mnt, server: v.exported, store: v.store };
  };

const KINDS: readonly { name: string; make: Maker; skip: string | undefined }[] = [
  { name: 'plain remote', make: plain, skip: cannotMount },
  { name: 'sshfs', make: overSshfs(), skip: cannotSshfs },
];

/** `inode,links` of a path in the mount (read in a child: the mount is another process's). */
async function inMount(p: string): Promise<string> {
  const r = await sh(`stat -c %i,%h '${p}'`);
  return r.status === 0 ? r.stdout.trim() : `stat failed: ${r.stderr.trim()}`;
}

/** `inode,links` of a path on the server's own disk. */
function onServer(p: string): string {
  try {
    const st = statSync(p);
    return `${String(st.ino)},${String(st.nlink)}`;
  } catch (err) {
    return (err as Error).message;
  }
}

const linksOf = (s: string): string => s.split(',')[1] ?? s;
const inoOf = (s: string): string => s.split(',')[0] ?? s;

/** Names `a` and `b` are one file with `n` links, as `stat` shows them. */
function oneFile(t: ExecutionContext, a: string, b: string, what: string, n = 2): void {
  t.is(inoOf(a), inoOf(b), `${what}: one inode (${a} and ${b})`);
  t.is(linksOf(a), String(n), `${what}: ${String(n)} links`);
  t.is(linksOf(b), String(n), `${what}: ${String(n)} links`);
}

const mountAnswers = (mnt: string, p: string, want: string) => async (): Promise<boolean> =>
  (await sh(`cat '${join(mnt, p)}'`)).stdout === want;

for (const k of KINDS) {
  const serial = k.skip === undefined ? test.serial : test.serial.skip;
  const skipped = k.skip === undefined ? '' : ` (skipped: ${k.skip})`;

  serial(
    `online: ln in the mount is a hard link on the server (${k.name})${skipped}`,
    async (t) => {
      const v = await k.make(t, (s) => {
        writeFileSync(join(s, 'a.txt'), 'shared\n');
      });
      t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'shared\n');
      const ln = await sh(
        `ln ${v.mnt}/a.txt ${v.mnt}/b.txt && mkdir ${v.mnt}/d && ln ${v.mnt}/a.txt ${v.mnt}/d/c.txt`,
      );
      t.is(ln.status, 0, ln.stderr);
      oneFile(t, await inMount(`${v.mnt}/a.txt`), await inMount(`${v.mnt}/b.txt`), 'mount', 3);
      const there = (): boolean =>
        onServer(join(v.server, 'd', 'c.txt')).endsWith(',3') &&
        onServer(join(v.server, 'b.txt')).endsWith(',3');
      t.true(await eventually(there, 20_000), onServer(join(v.server, 'b.txt')));
      const a = onServer(join(v.server, 'a.txt'));
      t.is(inoOf(onServer(join(v.server, 'b.txt'))), inoOf(a), 'server: b.txt is a.txt');
      t.is(inoOf(onServer(join(v.server, 'd', 'c.txt'))), inoOf(a), 'server: d/c.txt is a.txt');

      // A write through one name on the server is the other's, and the mount keeps them one
      // file when it pulls it (over sshfs the server's two names look like two files with the
      // same stamp: their bytes are compared before they are linked again).
      appendFileSync(join(v.server, 'b.txt'), 'more\n');
      t.true(await eventually(mountAnswers(v.mnt, 'a.txt', 'shared\nmore\n'), 20_000));
      t.true(await eventually(mountAnswers(v.mnt, 'd/c.txt', 'shared\nmore\n'), 20_000));
      t.true(
        await eventually(async () => linksOf(await inMount(`${v.mnt}/a.txt`)) === '3', 10_000),
        await inMount(`${v.mnt}/a.txt`),
      );
      t.is(inoOf(await inMount(`${v.mnt}/b.txt`)), inoOf(await inMount(`${v.mnt}/a.txt`)));
      // And a write through the mount reaches every name on the server.
      const w = await sh(`printf 'from the mount\\n' >> ${v.mnt}/d/c.txt && sync ${v.mnt}/d/c.txt`);
      t.is(w.status, 0, w.stderr);
      t.is((await sh(`cat ${v.mnt}/b.txt`)).stdout, 'shared\nmore\nfrom the mount\n');
      const all = (): boolean =>
        ['a.txt', 'b.txt', 'd/c.txt'].every(
          (p) => readFileSync(join(v.server, p), 'utf8') === 'shared\nmore\nfrom the mount\n',
        );
      t.true(await eventually(all, 20_000));
      t.true(
        await eventually(() => onServer(join(v.server, 'a.txt')).endsWith(',3'), 10_000),
        onServer(join(v.server, 'a.txt')),
      );
    },
  );

  serial(
    `offline: ln, then online, is a hard link on the server (${k.name})${skipped}`,
    async (t) => {
      const v = await k.make(t, (s) => {
        writeFileSync(join(s, 'a.txt'), 'shared\n');
      });
      t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'shared\n');
      t.is((await tetherRun(['offline', v.mnt])).status, 0);
      const ln = await sh(
        `ln ${v.mnt}/a.txt ${v.mnt}/b.txt && printf 'new\\n' > ${v.mnt}/n.txt && ln ${v.mnt}/n.txt ${v.mnt}/m.txt`,
      );
      t.is(ln.status, 0, ln.stderr);
      oneFile(
        t,
        await inMount(`${v.mnt}/a.txt`),
        await inMount(`${v.mnt}/b.txt`),
        'mount, offline',
      );
      t.is(onServer(join(v.server, 'a.txt')).split(',')[1], '1', 'nothing reached the server yet');
      const on = await tetherRun(['online', v.mnt]);
      t.is(on.status, 0, on.stdout + on.stderr);
      t.notRegex(on.stdout, /note:/, 'every link made as a link');
      oneFile(t, onServer(join(v.server, 'a.txt')), onServer(join(v.server, 'b.txt')), 'server');
      oneFile(
        t,
        onServer(join(v.server, 'n.txt')),
        onServer(join(v.server, 'm.txt')),
        'server, new',
      );
      t.is(readFileSync(join(v.server, 'm.txt'), 'utf8'), 'new\n');
      oneFile(t, await inMount(`${v.mnt}/n.txt`), await inMount(`${v.mnt}/m.txt`), 'mount, online');

      // Offline again, a write through one name: only that name is on the changed-path list,
      // and the other name's new bytes reach the server too, still one file there.
      t.is((await tetherRun(['offline', v.mnt])).status, 0);
      t.is((await sh(`printf 'again\\n' >> ${v.mnt}/b.txt`)).status, 0);
      const back = await tetherRun(['online', v.mnt]);
      t.is(back.status, 0, back.stdout + back.stderr);
      for (const p of ['a.txt', 'b.txt']) {
        t.is(readFileSync(join(v.server, p), 'utf8'), 'shared\nagain\n', p);
      }
      oneFile(t, onServer(join(v.server, 'a.txt')), onServer(join(v.server, 'b.txt')), 'again');
    },
  );
}

const plainSerial = cannotMount === undefined ? test.serial : test.serial.skip;
plainSerial(
  `a hard link made on the server is one inode in the mount${cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`}`,
  async (t) => {
    const v = await plain(t, (s) => {
      writeFileSync(join(s, 'a.txt'), 'shared\n');
    });
    t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'shared\n');
    linkSync(join(v.server, 'a.txt'), join(v.server, 'z.txt'));
    writeFileSync(join(v.server, 'p.txt'), 'pair\n');
    linkSync(join(v.server, 'p.txt'), join(v.server, 'q.txt'));
    t.true(await eventually(mountAnswers(v.mnt, 'q.txt', 'pair\n'), 20_000));
    t.true(await eventually(mountAnswers(v.mnt, 'z.txt', 'shared\n'), 20_000));
    oneFile(t, await inMount(`${v.mnt}/a.txt`), await inMount(`${v.mnt}/z.txt`), 'mount');
    oneFile(t, await inMount(`${v.mnt}/p.txt`), await inMount(`${v.mnt}/q.txt`), 'mount, new');
    // A write through one name in the mount is seen through the other at once, and reaches
    // the server as one file still.
    const w = await sh(`printf 'two\\n' >> ${v.mnt}/z.txt && sync ${v.mnt}/z.txt`);
    t.is(w.status, 0, w.stderr);
    t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'shared\ntwo\n');
    t.true(
      await eventually(
        () => readFileSync(join(v.server, 'a.txt'), 'utf8') === 'shared\ntwo\n',
        20_000,
      ),
    );
    oneFile(t, onServer(join(v.server, 'a.txt')), onServer(join(v.server, 'z.txt')), 'server');
  },
);

const sshfsSerial = cannotSshfs === undefined ? test.serial : test.serial.skip;
const sshfsSkipped = cannotSshfs === undefined ? '' : ` (skipped: ${cannotSshfs})`;

sshfsSerial(
  `sshfs shows no server-side hard links: a link made there reaches the mount as two files${sshfsSkipped}`,
  async (t) => {
    const v = await overSshfs()(t, (s) => {
      writeFileSync(join(s, 'a.txt'), 'shared\n');
    });
    t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'shared\n');
    linkSync(join(v.server, 'a.txt'), join(v.server, 'z.txt'));
    t.true(await eventually(mountAnswers(v.mnt, 'z.txt', 'shared\n'), 20_000));
    // What sshfs shows of them: two files, one link each.
    const share = (await sh(`stat -c %h ${join(v.store, '..', 'share', 'z.txt')}`)).stdout.trim();
    t.is(share, '1', 'sshfs reports one link');
    t.is(linksOf(await inMount(`${v.mnt}/z.txt`)), '1');
    t.is((await sh(`cat ${v.mnt}/z.txt`)).stdout, 'shared\n', 'the bytes are all there');
  },
);

sshfsSerial(
  `a server that refuses hard links gets a copy, and the sync says so${sshfsSkipped}`,
  async (t) => {
    const v = await overSshfs(['hardlink'])(t, (s) => {
      writeFileSync(join(s, 'a.txt'), 'shared\n');
    });
    t.is((await sh(`cat ${v.mnt}/a.txt`)).stdout, 'shared\n');
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    t.is((await sh(`ln ${v.mnt}/a.txt ${v.mnt}/b.txt`)).status, 0);
    const on = await tetherRun(['online', v.mnt]);
    t.is(on.status, 0, on.stdout + on.stderr);
    t.regex(on.stdout, /note: .*b\.txt.* made as a copy.*refused the link \(EPERM\)/);
    t.is(readFileSync(join(v.server, 'b.txt'), 'utf8'), 'shared\n', 'the content is there');
    t.is(linksOf(onServer(join(v.server, 'b.txt'))), '1');
    // The mount keeps its link; the next syncs change nothing.
    oneFile(t, await inMount(`${v.mnt}/a.txt`), await inMount(`${v.mnt}/b.txt`), 'mount');
    const again = await tetherRun(['sync', v.mnt]);
    t.is(again.status, 0, again.stdout + again.stderr);
    t.regex(again.stdout, /applied 0 of 0/);
  },
);

plainSerial(
  `a server link to a file the mount never fetched is pulled as a copy, and the log says so${cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`}`,
  async (t) => {
    const v = await plain(t, (s) => {
      writeFileSync(join(s, 'u.txt'), 'never read\n');
    });
    linkSync(join(v.server, 'u.txt'), join(v.server, 'v.txt'));
    t.true(await eventually(mountAnswers(v.mnt, 'v.txt', 'never read\n'), 20_000));
    // u.txt is a placeholder (its zeros are no content): v.txt is not linked to it.
    t.not(inoOf(await inMount(`${v.mnt}/v.txt`)), inoOf(await inMount(`${v.mnt}/u.txt`)));
    t.regex(
      readFileSync(join(v.store, 'daemon.log'), 'utf8'),
      /"?v\.txt"? was copied, not linked to "?u\.txt"?, whose content was never fetched here/,
    );
    t.is((await sh(`cat ${v.mnt}/u.txt`)).stdout, 'never read\n', 'both names read right');
    oneFile(t, onServer(join(v.server, 'u.txt')), onServer(join(v.server, 'v.txt')), 'server');
  },
);

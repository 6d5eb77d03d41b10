// One suite for every Lister (src/scan/lister.ts): what a scan asks of the replica it scans,
// answered alike by each implementation — the directory lister through the native helper, the
// same without it (plain Node calls), and a Lister over the remote agent's IPC. Each case
// builds a real directory tree and compares what the lister says with what lstat(2),
// readlink(2) and the store say of it.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import type { Lister } from '../../src/scan/lister.js';
import type { DirListing } from '../../src/scan/list-dir.js';
import { Store } from '../../src/store/store.js';
import { byteString } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

export interface ListerUnderTest {
  /** Names the implementation in each test's title. */
  readonly name: string;
  /** A Lister of the directory tree at `root`. */
  make(root: string): Lister | Promise<Lister>;
  /** Called once every case is done (an agent to stop). */
  close?(): void;
}

const bytes = (root: string, name: string): Buffer =>
  Buffer.concat([Buffer.from(root + '/'), Buffer.from(name, 'latin1')]);

/** Entry names of a listing, as byte strings, in its order. */
const namesOf = (l: DirListing): string[] => Array.from({ length: l.count }, (_, i) => l.name(i));

/** The system error code a call rejects with (undefined: it resolved). */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'no code';
  }
}

export function listerConformance(impl: ListerUnderTest): void {
  const cases: [string, (t: ExecutionContext) => Promise<void>][] = [];
  const it = (title: string, run: (typeof cases)[number][1]): void => {
    cases.push([title, run]);
  };
  /** A fresh tree for one case, its lister, and its removal. */
  const withTree = async (run: (root: string, lister: Lister) => Promise<void>): Promise<void> => {
    const tmp = tempDir('tether-lister-');
    try {
      await run(tmp.dir, await impl.make(tmp.dir));
    } finally {
      tmp.cleanup();
    }
  };

  it('names are bytes, sorted by their bytes, whatever their encoding', (t) =>
    withTree(async (root, lister) => {
      const names = [
        'b',
        'caf\xc3\xa9',
        'l\xff\xfe',
        'A',
        'Z',
        'a',
        '_',
        ' sp ace',
        'new\nline',
        'z',
      ];
      for (const n of names) writeFileSync(bytes(root, n), n);
      mkdirSync(bytes(root, 'd\x80'));
      writeFileSync(bytes(root, 'd\x80/in\xff'), 'x');
      const top = await lister.list('', false);
      t.deepEqual(
        namesOf(top),
        [...names, 'd\x80'].sort((a, b) =>
          Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')),
        ),
      );
      for (const n of names) t.true(top.indexOf(n) >= 0, JSON.stringify(n));
      t.deepEqual(namesOf(await lister.list('d\x80', false)), ['in\xff']);
    }));

  it('every node kind, with its mode, owner, size, times, inode and device as lstat has them', (t) =>
    withTree(async (root, lister) => {
      writeFileSync(join(root, 'file'), 'seven b');
      execFileSync('touch', ['-m', '-d', '@1234567890.987654321', join(root, 'file')]);
      mkdirSync(join(root, 'dir'), { mode: 0o750 });
      symlinkSync('file', join(root, 'link'));
      execFileSync('mkfifo', ['-m', '0640', join(root, 'pipe')]);
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(join(root, 'sock'), resolve));
      try {
        const l = await lister.list('', false);
        const kinds = Object.fromEntries(namesOf(l).map((n, i) => [n, l.kind(i)]));
        t.deepEqual(kinds, {
          dir: 'dir',
          file: 'file',
          link: 'symlink',
          pipe: 'fifo',
          sock: 'socket',
        });
        for (const name of namesOf(l)) {
          const st = l.stat(l.indexOf(name));
          const want = lstatSync(join(root, name), { bigint: true });
          t.is(st.mode, Number(want.mode), `${name}: mode`);
          t.is(st.uid, Number(want.uid), `${name}: uid`);
          t.is(st.gid, Number(want.gid), `${name}: gid`);
          t.is(st.size, Number(want.size), `${name}: size`);
          t.is(st.mtimeNs, want.mtimeNs, `${name}: mtime`);
          t.is(st.ctimeNs, want.ctimeNs, `${name}: ctime`);
          t.is(st.ino, want.ino, `${name}: inode`);
          t.is(st.dev, want.dev, `${name}: device`);
        }
        t.is(l.stat(l.indexOf('file')).mtimeNs, 1_234_567_890_987_654_321n);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }));

  const asRoot = process.getuid?.() === 0;
  it(
    asRoot
      ? 'devices: their kind and device number'
      : 'devices: skipped, making device nodes needs root',
    (t) =>
      withTree(async (root, lister) => {
        if (!asRoot) {
          t.pass();
          return;
        }
        execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
        execFileSync('mknod', [join(root, 'loop'), 'b', '7', '0']);
        const l = await lister.list('', false);
        t.deepEqual(
          namesOf(l).map((_, i) => l.kind(i)),
          ['blockdev', 'chardev'],
        );
        t.is(l.stat(0).rdev, lstatSync(join(root, 'loop')).rdev);
        t.is(l.stat(1).rdev, lstatSync(join(root, 'null')).rdev);
      }),
  );

  it('two names of one file share their inode key and inode; sizes past 4 GiB are whole', (t) =>
    withTree(async (root, lister) => {
      writeFileSync(join(root, 'a'), 'linked');
      mkdirSync(join(root, 'd'));
      linkSync(join(root, 'a'), join(root, 'd', 'b'));
      writeFileSync(join(root, 'other'), 'linked');
      execFileSync('truncate', ['-s', String(5 * 2 ** 30 + 3), join(root, 'sparse')]);
      const top = await lister.list('', false);
      const d = await lister.list('d', false);
      const a = top.indexOf('a');
      t.is(top.inodeKey(a), d.inodeKey(d.indexOf('b')));
      t.not(top.inodeKey(a), top.inodeKey(top.indexOf('other')));
      t.is(top.stat(a).ino, d.stat(0).ino);
      t.is(lstatSync(join(root, 'a')).nlink, 2, 'the fixture is two names of one file');
      t.is(top.size(top.indexOf('sparse')), 5 * 2 ** 30 + 3);
    }));

  it('a symlink target is read as bytes, whatever they are', (t) =>
    withTree(async (root, lister) => {
      const target = Buffer.from('t\xff/../x y\x80', 'latin1');
      symlinkSync(target, bytes(root, 'l\xe9'));
      symlinkSync('plain', join(root, 'plain'));
      t.is(await lister.readlink('l\xe9'), byteString(target));
      t.is(await lister.readlink('plain'), 'plain');
      const l = await lister.list('', false);
      t.is(l.stat(l.indexOf('l\xe9')).size, target.length);
    }));

  it('user xattrs: flagged in a listing that asks, read sorted as bytes, none elsewhere', (t) =>
    withTree(async (root, lister) => {
      writeFileSync(join(root, 'tagged'), 'x');
      writeFileSync(join(root, 'bare'), 'x');
      mkdirSync(join(root, 'dir'));
      setAttributeSync(join(root, 'tagged'), 'user.b', Buffer.from([0, 255]));
      setAttributeSync(join(root, 'tagged'), 'user.a', Buffer.from('one'));
      setAttributeSync(join(root, 'dir'), 'user.d', Buffer.from('dir'));
      const asked = await lister.list('', true);
      const flags = (l: DirListing): Record<string, boolean> =>
        Object.fromEntries(namesOf(l).map((n, i) => [n, l.stat(i).userXattrs]));
      t.deepEqual(flags(asked), { bare: false, dir: true, tagged: true });
      t.deepEqual(flags(await lister.list('', false)), { bare: false, dir: false, tagged: false });
      // An earlier listing lends its flags to what is unchanged: the bytes are the same.
      const again = await lister.list('', true, {
        listing: asked.raw,
        cutoffUs: Date.now() * 1000,
      });
      t.deepEqual(again.raw, asked.raw);
      t.deepEqual(await lister.xattrs('tagged'), [
        ['user.a', Buffer.from('one')],
        ['user.b', Buffer.from([0, 255])],
      ]);
      t.deepEqual(await lister.xattrs('dir'), [['user.d', Buffer.from('dir')]]);
      t.is(await lister.xattrs('bare'), undefined);
      t.is(await lister.xattrs('gone'), undefined, 'a path gone since the listing has none');
    }));

  it('a listing is a pure function of the directory: the same bytes until something changes', (t) =>
    withTree(async (root, lister) => {
      writeFileSync(join(root, 'f'), 'x');
      mkdirSync(join(root, 'd'));
      const first = await lister.list('', true);
      t.deepEqual((await lister.list('', true)).raw, first.raw);
      writeFileSync(join(root, 'f'), 'xy');
      t.notDeepEqual((await lister.list('', true)).raw, first.raw);
    }));

  it('a directory gone or turned into a file answers ENOENT or ENOTDIR, as the system does', (t) =>
    withTree(async (root, lister) => {
      mkdirSync(join(root, 'd'));
      mkdirSync(join(root, 'e'));
      writeFileSync(join(root, 'd', 'f'), 'x');
      t.is((await lister.list('d', true)).count, 1);
      rmSync(join(root, 'd'), { recursive: true });
      t.is(await codeOf(lister.list('d', true)), 'ENOENT');
      t.is(await codeOf(lister.list('d/f', true)), 'ENOENT');
      rmSync(join(root, 'e'), { recursive: true });
      writeFileSync(join(root, 'e'), 'now a file');
      t.is(await codeOf(lister.list('e', true)), 'ENOTDIR');
      t.is(await codeOf(lister.list('e/below', false)), 'ENOTDIR');
      t.is(await codeOf(lister.readlink('gone')), 'ENOENT');
      t.is(await codeOf(lister.readlink('e')), 'EINVAL', 'a file is no symlink');
      t.is(await codeOf(lister.hash('gone')), 'ENOENT');
    }));

  it('removeTemp removes the file, and a file already gone is no error', (t) =>
    withTree(async (root, lister) => {
      writeFileSync(join(root, '.tether-tmp-x'), 'left by a killed run');
      await lister.removeTemp('.tether-tmp-x');
      t.deepEqual(readdirSync(root), []);
      t.is(await codeOf(lister.removeTemp('.tether-tmp-x')), undefined);
      t.is(await codeOf(lister.removeTemp('no/such/dir/.tether-tmp-y')), undefined);
    }));

  it("a file's hash is the store's id of the same bytes", (t) =>
    withTree(async (root, lister) => {
      const store = await Store.openOrCreate(join(root, '.store'));
      try {
        const big = Buffer.alloc(3 * 2 ** 20 + 17);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 255;
        const files: [string, Buffer][] = [
          ['empty', Buffer.alloc(0)],
          ['small\xff', Buffer.from('hello\n')],
          ['big', big],
        ];
        for (const [name, data] of files) {
          writeFileSync(bytes(root, name), data);
          t.is(await lister.hash(name), await store.putBlob(data), JSON.stringify(name));
        }
        t.not(await lister.hash('empty'), await lister.hash('small\xff'));
      } finally {
        await store.close();
      }
    }));

  for (const [title, run] of cases) test.serial(`${impl.name}: ${title}`, run);
  test.after.always(() => impl.close?.());
}

/* eslint-disable @typescript-eslint/no-confusing-void-expression -- a step records what its call
   returns, void included (as null): the table reads as the calls it makes. */
// The POSIX differential cases: each runs in a fresh directory (its working directory) on the
// local disk and in a mount, and what it observes must be equal. `setup` runs as root; `run`
// as root, or as the unprivileged user NOBODY where the case says so (permission checks).
// Steps use synchronous node:fs calls, and coreutils where node:fs has no call (mkfifo,
// touch for utimensat with UTIME_OMIT/UTIME_NOW).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { micros, type Recorder } from './recorder.js';

export const NOBODY = 65534;
const OTHER = 65533; // a second unprivileged user, for the sticky-directory rules

export interface Case {
  name: string;
  as?: 'nobody';
  setup?: (r: Recorder) => void;
  run: (r: Recorder) => void;
}

const { O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_WRONLY, O_RDONLY, O_RDWR, O_DIRECTORY, O_NOFOLLOW } =
  fs.constants;

function tool(cmd: string, ...args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw Object.assign(new Error(r.stderr), { code: `exit ${r.status}` });
  return r.stdout;
}

function times(p: string): { atime: string; mtime: string } {
  const s = fs.lstatSync(p, { bigint: true });
  return { atime: micros(s.atimeNs), mtime: micros(s.mtimeNs) };
}

const recent = (ns: bigint): boolean => {
  const now = BigInt(Date.now()) * 1_000_000n;
  return ns > now - 60_000_000_000n && ns <= now + 1_000_000_000n;
};

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Binds a unix socket at argv[1] (neither node:fs nor coreutils makes one synchronously). */
const BIND = 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])';

/** A name of 250 bytes: deep trees of these pass PATH_MAX in 17 levels. */
const LONG = 'd'.repeat(250);

export const cases: Case[] = [
  {
    name: 'open: O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW',
    run(r) {
      r.step('create excl', () =>
        fs.closeSync(fs.openSync('f', O_CREAT | O_EXCL | O_WRONLY, 0o640)),
      );
      r.stat('mode after umask 022', 'f');
      r.step('create excl again', () => fs.openSync('f', O_CREAT | O_EXCL | O_WRONLY));
      fs.writeFileSync('f', 'hello world');
      r.step('create existing', () => fs.closeSync(fs.openSync('f', O_CREAT | O_WRONLY)));
      r.read('content kept', 'f');
      r.step('trunc', () => fs.closeSync(fs.openSync('f', O_TRUNC | O_WRONLY)));
      r.stat('truncated', 'f');
      r.step('missing', () => fs.openSync('nope', O_RDONLY));
      r.step('O_DIRECTORY on a file', () => fs.openSync('f', O_RDONLY | O_DIRECTORY));
      fs.mkdirSync('d');
      r.step('write a directory', () => fs.openSync('d', O_WRONLY));
      fs.symlinkSync('f', 'l');
      fs.symlinkSync('nowhere', 'dangling');
      r.step('O_NOFOLLOW on a symlink', () => fs.openSync('l', O_RDONLY | O_NOFOLLOW));
      r.step('O_EXCL on a dangling symlink', () =>
        fs.openSync('dangling', O_CREAT | O_EXCL | O_WRONLY),
      );
      r.step('O_CREAT through a dangling symlink', () =>
        fs.closeSync(fs.openSync('dangling', O_CREAT | O_WRONLY)),
      );
      r.stat('made its target', 'nowhere');
      r.step('trailing slash on a file', () => fs.openSync('f/', O_RDONLY));
    },
  },
  {
    name: 'O_APPEND writes at the end whatever the position',
    run(r) {
      fs.writeFileSync('f', 'abc');
      const fd = fs.openSync('f', O_WRONLY | O_APPEND);
      r.step('pwrite at 0', () => fs.writeSync(fd, 'XY', 0));
      const other = fs.openSync('f', O_WRONLY);
      fs.writeSync(other, '0123456789', 0); // another writer grows the file
      fs.closeSync(other);
      r.step('append after growth', () => fs.writeSync(fd, '!'));
      fs.closeSync(fd);
      r.read('content', 'f');
    },
  },
  {
    name: 'sparse writes, holes read as zeros, truncate grows and shrinks',
    run(r) {
      const fd = fs.openSync('f', O_CREAT | O_RDWR, 0o644);
      r.step('write at 1 MiB', () => fs.writeSync(fd, 'end', 1 << 20));
      r.step('size', () => fs.fstatSync(fd).size);
      r.step('sparse', () => fs.fstatSync(fd).blocks * 512 < 1 << 20);
      const hole = Buffer.alloc(4096, 1);
      r.step('hole reads zeros', () => {
        fs.readSync(fd, hole, 0, 4096, 4096);
        return hole.every((b) => b === 0);
      });
      r.step('ftruncate shrink', () => fs.ftruncateSync(fd, 10));
      r.step('size after shrink', () => fs.fstatSync(fd).size);
      fs.closeSync(fd);
      r.step('truncate grow', () => fs.truncateSync('f', 100_000));
      r.step('grown part is zeros', () =>
        fs
          .readFileSync('f')
          .subarray(10)
          .every((b) => b === 0),
      );
      r.step('truncate a directory', () => {
        fs.mkdirSync('d');
        fs.truncateSync('d', 0);
      });
      const ro = fs.openSync('f', O_RDONLY);
      r.step('ftruncate a read-only fd', () => fs.ftruncateSync(ro, 0));
      fs.closeSync(ro);
    },
  },
  {
    name: 'files over 4 GiB, sparse',
    run(r) {
      const fd = fs.openSync('big', O_CREAT | O_RDWR, 0o644);
      const at = 5 * 2 ** 30;
      r.step('write at 5 GiB', () => fs.writeSync(fd, 'Z', at));
      fs.closeSync(fd);
      r.stat('stat', 'big');
      r.step('read back', () => {
        const b = Buffer.alloc(2);
        const fd2 = fs.openSync('big', O_RDONLY);
        const n = fs.readSync(fd2, b, 0, 2, at - 1);
        fs.closeSync(fd2);
        return `${n}:${b.toString('hex')}`;
      });
      r.step('truncate to 4 GiB + 1', () => fs.truncateSync('big', 2 ** 32 + 1));
      r.stat('after truncate', 'big');
      fs.unlinkSync('big');
    },
  },
  {
    name: 'rename over files and directories',
    run(r) {
      fs.writeFileSync('a', 'A');
      fs.writeFileSync('b', 'B');
      fs.mkdirSync('d');
      fs.mkdirSync('e');
      fs.mkdirSync('full');
      fs.writeFileSync('full/x', 'x');
      r.step('file over file', () => fs.renameSync('a', 'b'));
      r.read('target has the source content', 'b');
      r.step('source gone', () => fs.existsSync('a'));
      r.step('file over directory', () => fs.renameSync('b', 'd'));
      r.step('directory over file', () => fs.renameSync('d', 'b'));
      r.step('directory over non-empty directory', () => fs.renameSync('d', 'full'));
      r.step('directory over empty directory', () => fs.renameSync('d', 'e'));
      r.list('after', '.');
      r.step('directory into itself', () => fs.renameSync('e', 'e/sub'));
      r.step('to itself', () => fs.renameSync('b', 'b'));
      fs.linkSync('b', 'b2');
      r.step('over its own hard link', () => fs.renameSync('b', 'b2'));
      r.list('both links stay', '.');
      r.step('missing source', () => fs.renameSync('nope', 'x'));
      r.stat('directory nlink', 'full');
    },
  },
  {
    name: 'rename a directory with open files inside',
    run(r) {
      fs.mkdirSync('d');
      fs.writeFileSync('d/f', 'one');
      const fd = fs.openSync('d/f', O_RDWR);
      r.step('rename', () => fs.renameSync('d', 'e'));
      r.step('write through the open file', () => fs.writeSync(fd, 'TWO', 0));
      r.step('fstat', () => fs.fstatSync(fd).size);
      r.read('new name shows it', 'e/f');
      r.sameInode('same file', fd, 'e/f');
      fs.closeSync(fd);
      r.list('old name gone', '.');
    },
  },
  {
    name: 'unlink an open file',
    run(r) {
      fs.mkdirSync('d');
      fs.writeFileSync('d/f', 'data');
      const fd = fs.openSync('d/f', O_RDWR);
      r.step('unlink', () => fs.unlinkSync('d/f'));
      r.list('gone from the directory', 'd');
      r.step('write after unlink', () => fs.writeSync(fd, 'more', 4));
      r.step('read after unlink', () => {
        const b = Buffer.alloc(8);
        fs.readSync(fd, b, 0, 8, 0);
        return b.toString();
      });
      r.step('fstat nlink and size', () => {
        const s = fs.fstatSync(fd);
        return [s.nlink, s.size];
      });
      r.step('rmdir the parent while open', () => fs.rmdirSync('d'));
      fs.closeSync(fd);
    },
  },
  {
    name: 'mkdir and rmdir',
    run(r) {
      r.step('mkdir', () => fs.mkdirSync('d', 0o750));
      r.stat('mode', 'd');
      r.step('mkdir existing', () => fs.mkdirSync('d'));
      fs.writeFileSync('d/f', '');
      r.step('rmdir non-empty', () => fs.rmdirSync('d'));
      r.step('rmdir a file', () => fs.rmdirSync('d/f'));
      r.step('rmdir missing', () => fs.rmdirSync('nope'));
      r.step('rmdir dot', () => fs.rmdirSync('d/.'));
      fs.mkdirSync('d/sub');
      r.stat('nlink counts subdirectories', 'd');
      fs.rmSync('d/sub', { recursive: true });
      fs.unlinkSync('d/f');
      r.step('rmdir empty', () => fs.rmdirSync('d'));
      r.step('mkdir under a file', () => {
        fs.writeFileSync('file', '');
        fs.mkdirSync('file/x');
      });
    },
  },
  {
    name: 'hard links',
    run(r) {
      fs.writeFileSync('f', 'x');
      r.step('link', () => fs.linkSync('f', 'g'));
      r.sameInode('one inode', 'f', 'g');
      r.stat('nlink 2', 'g');
      fs.chmodSync('f', 0o600);
      r.stat('chmod through one link shows through the other', 'g');
      r.step('link over existing', () => fs.linkSync('f', 'g'));
      fs.mkdirSync('d');
      r.step('link a directory', () => fs.linkSync('d', 'd2'));
      r.step('link missing', () => fs.linkSync('nope', 'n2'));
      fs.unlinkSync('f');
      r.stat('nlink 1 after unlink of the other', 'g');
      fs.symlinkSync('g', 's');
      r.step('link a symlink (not followed)', () => fs.linkSync('s', 's2'));
      r.stat('the new link is a symlink', 's2');
    },
  },
  {
    name: 'symlinks',
    run(r) {
      r.step('symlink', () => fs.symlinkSync('target/with/../parts', 'l'));
      r.step('readlink', () => fs.readlinkSync('l'));
      r.stat('lstat: size is the target length', 'l');
      r.step('stat dangling', () => fs.statSync('l'));
      r.step('symlink over existing', () => fs.symlinkSync('x', 'l'));
      fs.writeFileSync('t', 'T');
      fs.symlinkSync('t', 'lt');
      r.stat('stat follows', 'lt', true);
      r.step('readlink a file', () => fs.readlinkSync('t'));
      const long = 'x/'.repeat(2000) + 'end';
      r.step('long target', () => {
        fs.symlinkSync(long, 'long');
        return fs.readlinkSync('long') === long;
      });
      fs.mkdirSync('d');
      fs.symlinkSync('d', 'ld');
      r.step('through a symlinked directory', () => fs.writeFileSync('ld/f', 'in d'));
      r.read('landed in d', 'd/f');
      r.step('symlink loop', () => {
        fs.symlinkSync('loop', 'loop');
        fs.statSync('loop');
      });
    },
  },
  {
    name: 'mkfifo',
    run(r) {
      r.step('mkfifo', () => tool('mkfifo', '-m', '640', 'p'));
      r.stat('a fifo', 'p');
      r.step('open without a writer, non-blocking', () => {
        fs.closeSync(fs.openSync('p', O_RDONLY | fs.constants.O_NONBLOCK));
      });
      r.step('mkfifo existing', () => tool('mkfifo', 'p'));
      r.step('unlink', () => fs.unlinkSync('p'));
    },
  },
  {
    name: 'mknod: devices and sockets as root',
    run(r) {
      r.step('block device', () => tool('mknod', '-m', '640', 'b', 'b', '1', '2'));
      r.stat('a block device', 'b');
      r.step('its numbers', () => fs.lstatSync('b').rdev);
      r.step('char device', () => tool('mknod', '-m', '600', 'c', 'c', '1', '3'));
      r.stat('a char device', 'c');
      r.step('fifo by mknod', () => tool('mknod', '-m', '604', 'p', 'p'));
      r.stat('a fifo', 'p');
      r.step('socket', () => tool('/usr/bin/python3', '-c', BIND, 's'));
      r.stat('a socket', 's');
      r.step('device existing', () => tool('mknod', 'c', 'c', '1', '3'));
      r.step('hard link to a device', () => fs.linkSync('c', 'c2'));
      r.stat('linked', 'c');
      r.step('chown a socket', () => fs.chownSync('s', NOBODY, NOBODY));
      r.stat('owned', 's');
      for (const n of ['b', 'c', 'c2', 'p', 's']) r.step(`unlink ${n}`, () => fs.unlinkSync(n));
    },
  },
  {
    name: 'mknod: an unprivileged user makes fifos and sockets, not devices',
    as: 'nobody',
    setup() {
      fs.chmodSync('.', 0o777);
    },
    run(r) {
      r.step('char device', () => tool('mknod', 'c', 'c', '1', '3'));
      r.step('fifo by mknod', () => tool('mknod', '-m', '640', 'p', 'p'));
      r.stat('a fifo of its own', 'p');
      r.step('socket', () => tool('/usr/bin/python3', '-c', BIND, 's'));
      r.stat('a socket of its own', 's');
    },
  },
  {
    name: 'chmod and chown as root, and the set-uid clearing rules',
    run(r) {
      fs.writeFileSync('f', 'x');
      r.step('chmod 7777', () => fs.chmodSync('f', 0o7777));
      r.stat('all bits', 'f');
      r.step('chown to nobody', () => fs.chownSync('f', NOBODY, NOBODY));
      r.stat('chown cleared set-uid and set-gid', 'f');
      fs.chmodSync('f', 0o6755);
      r.step('chown to the same owner', () => fs.chownSync('f', NOBODY, NOBODY));
      r.stat('cleared again', 'f');
      fs.chmodSync('f', 0o2745); // set-gid without group execute: mandatory locking, kept
      fs.chownSync('f', 0, 0);
      r.stat('set-gid without group x', 'f');
      fs.mkdirSync('d', 0o755);
      fs.chmodSync('d', 0o3755);
      r.step('chown a directory', () => fs.chownSync('d', NOBODY, NOBODY));
      r.stat('directory keeps set-gid and sticky', 'd');
      fs.symlinkSync('f', 'l');
      r.step('lchown a symlink', () => fs.lchownSync('l', NOBODY, NOBODY));
      r.stat('symlink owner', 'l');
      r.stat('target untouched', 'f');
      r.step('chmod missing', () => fs.chmodSync('nope', 0o644));
    },
  },
  {
    name: 'set-gid directories give new entries their group',
    run(r) {
      fs.mkdirSync('g', 0o777);
      fs.chownSync('g', 0, 100);
      fs.chmodSync('g', 0o2777);
      fs.writeFileSync('g/f', '');
      fs.mkdirSync('g/d');
      r.stat('file group', 'g/f');
      r.stat('directory group and set-gid', 'g/d');
    },
  },
  {
    name: 'utimensat with UTIME_OMIT and UTIME_NOW',
    run(r) {
      fs.writeFileSync('f', 'x');
      r.step('set both', () => fs.utimesSync('f', 1_000_000_000.25, 1_100_000_000.5));
      r.step('times', () => times('f'));
      r.step('touch -m (atime omitted)', () => tool('touch', '-m', '-d', '@1200000000.75', 'f'));
      r.step('times', () => times('f'));
      r.step('touch -a (mtime omitted)', () => tool('touch', '-a', '-d', '@1300000000', 'f'));
      r.step('times', () => times('f'));
      r.step('touch -a now', () => tool('touch', '-a', 'f'));
      r.step('atime now, mtime kept', () => {
        const s = fs.statSync('f', { bigint: true });
        return [recent(s.atimeNs), micros(s.mtimeNs)];
      });
      r.step('touch now', () => tool('touch', 'f'));
      r.step('both now', () => {
        const s = fs.statSync('f', { bigint: true });
        return [recent(s.atimeNs), recent(s.mtimeNs)];
      });
      r.step('before 1970', () => tool('touch', '-d', '1960-01-01 00:00:00.5 UTC', 'f'));
      r.step('times', () => times('f'));
      fs.symlinkSync('f', 'l');
      r.step('lutimes a symlink', () => fs.lutimesSync('l', 5, 6));
      r.step('symlink times', () => times('l'));
      r.step('target times kept', () => times('f').mtime);
    },
  },
  {
    name: 'writes move mtime and ctime; chmod moves ctime only',
    run(r) {
      fs.writeFileSync('f', 'x');
      fs.utimesSync('f', 1000, 1000);
      const before = fs.statSync('f', { bigint: true });
      sleep(20);
      fs.appendFileSync('f', 'y');
      const after = fs.statSync('f', { bigint: true });
      r.step('write moved mtime and ctime', () => [
        after.mtimeNs > before.mtimeNs,
        after.ctimeNs > before.ctimeNs,
      ]);
      sleep(20);
      fs.chmodSync('f', 0o600);
      const chmodded = fs.statSync('f', { bigint: true });
      r.step('chmod moved ctime, not mtime', () => [
        chmodded.mtimeNs === after.mtimeNs,
        chmodded.ctimeNs > after.ctimeNs,
      ]);
      fs.mkdirSync('d');
      const dir = fs.statSync('d', { bigint: true });
      sleep(20);
      fs.writeFileSync('d/new', '');
      r.step(
        'creating a name moved the directory mtime',
        () => fs.statSync('d', { bigint: true }).mtimeNs > dir.mtimeNs,
      );
    },
  },
  {
    name: 'extended attributes',
    run(r) {
      fs.writeFileSync('f', 'x');
      const attr = (...args: string[]) => tool(args[0]!, ...args.slice(1));
      r.step('set', () => attr('setfattr', '-n', 'user.color', '-v', 'blue', 'f'));
      r.step('set binary', () => attr('setfattr', '-n', 'user.bin', '-v', '0x00ff80', 'f'));
      r.step('get', () => attr('getfattr', '--only-values', '-n', 'user.color', 'f'));
      r.step(
        'get binary',
        () => attr('getfattr', '-e', 'hex', '-n', 'user.bin', 'f').split('\n')[1],
      );
      r.step('list', () => attr('getfattr', '-d', '-m', '-', 'f').split('\n').slice(1).sort());
      r.step('get missing', () => attr('getfattr', '-n', 'user.none', 'f'));
      r.step('remove', () => attr('setfattr', '-x', 'user.color', 'f'));
      r.step('remove missing', () => attr('setfattr', '-x', 'user.color', 'f'));
      r.step('list after', () =>
        attr('getfattr', '-d', '-m', '-', 'f').split('\n').slice(1).sort(),
      );
      // setxattr(2)'s flags (setfattr has none): XATTR_CREATE fails on an existing name with
      // EEXIST, XATTR_REPLACE on a missing one with ENODATA.
      const setFlag = (name: string, flag: 'XATTR_CREATE' | 'XATTR_REPLACE') =>
        tool(
          'python3',
          '-c',
          'import os, sys\n' +
            'try: os.setxattr("f", sys.argv[1], b"v2", getattr(os, sys.argv[2]))\n' +
            'except OSError as e: sys.exit(e.errno)',
          name,
          flag,
        );
      r.step('create existing', () => setFlag('user.bin', 'XATTR_CREATE'));
      r.step('create new', () => setFlag('user.fresh', 'XATTR_CREATE'));
      r.step('replace missing', () => setFlag('user.none', 'XATTR_REPLACE'));
      r.step('replace existing', () => setFlag('user.fresh', 'XATTR_REPLACE'));
      r.step('after flags', () => attr('getfattr', '--only-values', '-n', 'user.fresh', 'f'));
      fs.mkdirSync('d');
      r.step('on a directory', () => attr('setfattr', '-n', 'user.k', '-v', 'v', 'd'));
      r.step('big value', () => {
        attr('setfattr', '-n', 'user.big', '-v', 'v'.repeat(3000), 'f');
        return attr('getfattr', '--only-values', '-n', 'user.big', 'f').length;
      });
    },
  },
  {
    name: 'names that are not UTF-8',
    run(r) {
      const name = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
      const other = Buffer.from([0xff, 0xfe, 0x2e, 0x74]);
      r.step('create', () => fs.writeFileSync(name, 'latin-1'));
      r.list('listed as bytes', '.');
      r.read('read', name);
      r.step('rename', () => fs.renameSync(name, other));
      r.list('renamed', '.');
      r.step('mkdir', () => fs.mkdirSync(name));
      r.step('inside', () => fs.writeFileSync(Buffer.concat([name, Buffer.from('/'), other]), ''));
      r.list('inside listed', name);
      r.step('symlink to bytes', () => fs.symlinkSync(other, Buffer.from('l')));
      r.step('readlink', () => fs.readlinkSync('l', { encoding: 'buffer' }).toString('hex'));
      r.step('unlink', () => fs.unlinkSync(other));
      r.step('a 255-byte name', () => fs.writeFileSync('n'.repeat(255), ''));
      r.step('a 256-byte name', () => fs.writeFileSync('n'.repeat(256), ''));
    },
  },
  {
    name: 'paths longer than PATH_MAX',
    run(r) {
      const top = process.cwd();
      let depth = 0;
      r.step('mkdir 18 levels of 250-byte names', () => {
        for (; depth < 18; depth++) {
          fs.mkdirSync(LONG);
          process.chdir(LONG);
        }
      });
      r.step('path length', () => process.cwd().length - top.length > 4096);
      r.step('create deep', () => fs.writeFileSync('f', 'deep'));
      r.stat('stat deep', 'f');
      r.step('rename deep', () => fs.renameSync('f', 'g'));
      r.step('symlink and link deep', () => {
        fs.symlinkSync('g', 's');
        fs.linkSync('g', 'h');
      });
      r.stat('link count', 'g');
      r.step('chmod and utimes deep', () => {
        fs.chmodSync('g', 0o600);
        fs.utimesSync('g', 7, 8);
        return times('g');
      });
      r.step('xattr deep', () => tool('setfattr', '-n', 'user.deep', '-v', 'yes', 'g'));
      r.step('fifo deep', () => tool('mkfifo', 'p'));
      r.list('listing', '.');
      r.step('absolute path too long', () => fs.statSync(`${process.cwd()}/g`));
      r.step('remove deep', () => {
        for (const n of ['g', 'h', 's', 'p']) fs.unlinkSync(n);
        for (; depth > 0; depth--) {
          process.chdir('..');
          fs.rmdirSync(LONG);
        }
      });
      process.chdir(top);
    },
  },
  {
    name: 'statfs',
    run(r) {
      r.step('sane', () => {
        const s = fs.statfsSync('.');
        return [
          s.bsize > 0,
          s.blocks > 0,
          s.bfree <= s.blocks,
          s.bavail <= s.bfree,
          s.files >= s.ffree,
        ];
      });
    },
  },
  {
    name: 'fsync and fdatasync',
    run(r) {
      const fd = fs.openSync('f', O_CREAT | O_WRONLY, 0o644);
      fs.writeSync(fd, 'x');
      r.step('fsync', () => fs.fsyncSync(fd));
      r.step('fdatasync', () => fs.fdatasyncSync(fd));
      fs.closeSync(fd);
      const dir = fs.openSync('.', O_RDONLY);
      r.step('fsync a directory', () => fs.fsyncSync(dir));
      fs.closeSync(dir);
    },
  },
  {
    name: 'permissions of an unprivileged user',
    as: 'nobody',
    setup() {
      fs.chownSync('.', 0, 0);
      fs.chmodSync('.', 0o755);
      fs.writeFileSync('secret', 's', { mode: 0o600 });
      fs.writeFileSync('public', 'p', { mode: 0o644 });
      fs.mkdirSync('closed', 0o700);
      fs.writeFileSync('closed/f', '');
      fs.mkdirSync('open', 0o777);
      fs.mkdirSync('sticky', 0o777);
      fs.chmodSync('sticky', 0o1777);
      fs.writeFileSync('sticky/theirs', '');
      fs.chownSync('sticky/theirs', OTHER, OTHER);
      fs.writeFileSync('setuid', '', { mode: 0o4777 });
      fs.chmodSync('setuid', 0o4777);
      fs.chownSync('setuid', NOBODY, NOBODY);
      fs.chmodSync('setuid', 0o6777);
    },
    run(r) {
      r.read('read a 0600 file of root', 'secret');
      r.read('read a 0644 file', 'public');
      r.step('write a 0644 file of root', () => fs.writeFileSync('public', 'x'));
      r.step('create in a 0755 directory of root', () => fs.writeFileSync('new', ''));
      r.step('stat through a 0700 directory', () => fs.statSync('closed/f'));
      r.step('list a 0700 directory', () => fs.readdirSync('closed'));
      r.step('create in a 0777 directory', () => fs.writeFileSync('open/mine', ''));
      r.stat('owned by the creator', 'open/mine');
      r.step('chmod own file', () => fs.chmodSync('open/mine', 0o4755));
      r.stat('set-uid kept on own file', 'open/mine');
      r.step('chmod a file of root', () => fs.chmodSync('public', 0o777));
      r.step('chown own file to root', () => fs.chownSync('open/mine', 0, 0));
      r.step('chgrp to a group not its own', () => fs.chownSync('open/mine', NOBODY, 0));
      r.step('utimes with a time on a file of root', () => fs.utimesSync('public', 1, 1));
      r.step('unlink in a sticky directory, not its own', () => fs.unlinkSync('sticky/theirs'));
      r.step('rename in a sticky directory, not its own', () =>
        fs.renameSync('sticky/theirs', 'sticky/x'),
      );
      r.step('create in a sticky directory', () => fs.writeFileSync('sticky/mine', ''));
      r.step('unlink own in a sticky directory', () => fs.unlinkSync('sticky/mine'));
      r.step('write clears set-uid and set-gid', () => {
        fs.appendFileSync('setuid', 'x');
        return (fs.statSync('setuid').mode & 0o7777).toString(8);
      });
      r.step('access W_OK of a file of root', () => fs.accessSync('public', fs.constants.W_OK));
      r.step('access R_OK of own file', () => fs.accessSync('open/mine', fs.constants.R_OK));
      r.step('mkdir in a 0755 directory of root', () => fs.mkdirSync('nodir'));
      r.step('rmdir in a 0755 directory of root', () => fs.rmdirSync('closed'));
      r.step('symlink in a 0777 directory', () => fs.symlinkSync('x', 'open/l'));
      r.stat('symlink owner', 'open/l');
      r.step('link to a file of root (protected hardlinks)', () =>
        fs.linkSync('public', 'open/hl'),
      );
    },
  },
  {
    name: 'read and write lengths, EOF, pread at offsets',
    run(r) {
      const data = Buffer.alloc(300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      r.step('write 300 kB', () => fs.writeFileSync('f', data));
      r.step('read back equal', () => fs.readFileSync('f').equals(data));
      const fd = fs.openSync('f', O_RDONLY);
      const b = Buffer.alloc(1000);
      r.step('pread across the end', () => fs.readSync(fd, b, 0, 1000, 299_500));
      r.step('pread past the end', () => fs.readSync(fd, b, 0, 1000, 400_000));
      fs.closeSync(fd);
      r.step('overwrite the middle', () => {
        const w = fs.openSync('f', O_WRONLY);
        fs.writeSync(w, 'MIDDLE', 150_000);
        fs.closeSync(w);
        return fs.readFileSync('f').subarray(149_998, 150_008).toString('hex');
      });
    },
  },
];

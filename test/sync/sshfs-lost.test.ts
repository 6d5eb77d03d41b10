// A server that stops answering in the middle of a sync (a hung sshfs server, then the link
// given up) ends the run with a tether message and exit status 1: what failed, where and what
// to do, never a bare Node stack trace, and nothing changed in the local replica.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, tempDir, tether } from '../cli/run.js';
import { fuseConnection, processTree, sshfsArgs, startSshd, why } from './sshd.js';

/** Enough files on the server that the run is still reading them when the server hangs. */
const FILES = 1500;

(why === undefined ? test.serial : test.skip)(
  why === undefined
    ? 'a hung sshfs server ends sync-dirs with a tether message, not a stack trace'
    : `a hung sshfs server ends sync-dirs with a tether message — skipped: ${why}`,
  async (t) => {
    const tmp = tempDir();
    const a = join(tmp.dir, 'A');
    const exported = join(tmp.dir, 'exported');
    const mnt = join(tmp.dir, 'mnt');
    const store = join(tmp.dir, 'store');
    const sshd = await startSshd(tmp.dir);
    const stopped: number[] = [];
    const fuse: { connection?: string } = {};
    t.teardown(() => {
      // A process stuck on the mount is freed by aborting its FUSE connection.
      if (fuse.connection !== undefined) {
        spawnSync('sh', ['-c', `echo 1 > ${fuse.connection}/abort`]);
      }
      for (const pid of stopped) spawnSync('kill', ['-CONT', String(pid)]);
      spawnSync('fusermount3', ['-u', '-z', mnt]);
      sshd.proc.kill();
      tmp.cleanup();
    });
    mkdirSync(a);
    mkdirSync(exported);
    mkdirSync(mnt);
    for (let i = 0; i < FILES; i++) writeFileSync(join(exported, `f${i}.txt`), `server ${i}\n`);
    const m = spawnSync(
      'sshfs',
      // The link is given up after about 3 s without an answer, as a user's mount would be.
      sshfsArgs(sshd, exported, mnt, { more: ['ServerAliveInterval=1', 'ServerAliveCountMax=2'] }),
    );
    t.is(m.status, 0, String(m.stderr));
    fuse.connection = fuseConnection(mnt);
    const first = tether(['sync-dirs', a, mnt, '--store', store, '--initial']);
    t.is(first.status, 0, first.stdout + first.stderr);
    const before = readdirSync(a).sort();
    for (let i = 0; i < FILES; i++) {
      writeFileSync(join(exported, `f${i}.txt`), `server edit ${i}\n`);
    }

    const child = spawn(process.execPath, [MAIN, 'sync-dirs', a, mnt, '--store', store], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The server hangs once the run has checked both replicas and taken its lock: every
    // process of the server's sessions is stopped, in the middle of the run.
    for (let i = 0; i < 2000 && !existsSync(join(store, 'sync.lock')); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const pid of processTree(sshd.proc.pid!).slice(1)) {
      spawnSync('kill', ['-STOP', String(pid)]);
      stopped.push(pid);
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        resolve(-1);
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    t.log(`exit ${String(code)}\n${stdout}${stderr}`);
    t.not(code, -1, 'the run ended');
    t.is(code, 1, stdout + stderr);
    // Where the server stopped answering decides which call failed: the scan (the run stops
    // with a message), or the apply (each path fails, with its reason, and the run goes on).
    t.true(/^tether: /.test(stderr) || /^failed: /m.test(stdout), stdout + stderr);
    t.regex(stdout + stderr, /E[A-Z]+|server|vanished|Input\/output/, 'the cause is named');
    t.notRegex(stdout + stderr, /\n\s+at /, 'no stack trace');
    t.notRegex(stdout + stderr, /internal error/, 'an I/O error is no bug of tether');
    t.deepEqual(readdirSync(a).sort(), before, 'nothing changed locally');
  },
);

// One command at a time changes a sync store's replicas: sync-dirs and resolve refuse while
// another live process holds the store's lock, and take over a lock its dead owner left.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tether, tetherAsync } from '../cli/run.js';

function pair(): { a: string; b: string; store: string; cleanup: () => void } {
  const tmp = tempDir();
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(join(a, 'f'), 'one');
  writeFileSync(join(b, 'f'), 'one');
  return { a, b, store: join(tmp.dir, 'store'), cleanup: tmp.cleanup };
}

test('sync-dirs and resolve refuse while a live process holds the lock, and say what to do', (t) => {
  const p = pair();
  try {
    t.is(tether(['sync-dirs', p.a, p.b, '--store', p.store]).status, 0);
    // This test's own process is alive and is not the command's: the lock is taken.
    writeFileSync(join(p.store, 'sync.lock'), String(process.pid));
    const sync = tether(['sync-dirs', p.a, p.b, '--store', p.store]);
    t.is(sync.status, 1);
    t.regex(
      sync.stderr,
      new RegExp(
        `another tether command \\(pid ${process.pid}\\) is syncing or resolving .*run tether sync-dirs again`,
      ),
    );
    const resolve = tether(['resolve', 'f', '--take', 'local', '--store', p.store]);
    t.is(resolve.status, 1);
    t.regex(resolve.stderr, /another tether command .* then run tether resolve again/);
    t.true(existsSync(join(p.store, 'sync.lock')), "the other process's lock is left alone");
  } finally {
    p.cleanup();
  }
});

test('a lock left by a process that is gone is taken over', (t) => {
  const p = pair();
  try {
    t.is(tether(['sync-dirs', p.a, p.b, '--store', p.store]).status, 0);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(p.store, 'sync.lock'), gone.stdout);
    const sync = tether(['sync-dirs', p.a, p.b, '--store', p.store]);
    t.is(sync.status, 0, sync.stderr);
    t.false(existsSync(join(p.store, 'sync.lock')), 'released after the run');
    // resolve takes and releases it too (here: no conflict to resolve, a clear error).
    const resolve = tether(['resolve', 'f', '--take', 'local', '--store', p.store]);
    t.is(resolve.status, 1);
    t.regex(resolve.stderr, /no conflict is recorded at f/);
    t.false(existsSync(join(p.store, 'sync.lock')));
  } finally {
    p.cleanup();
  }
});

test('while a volume daemon serves the store, a held lock (its background sync) is waited for, not refused', async (t) => {
  const p = pair();
  try {
    t.is(tether(['sync-dirs', p.a, p.b, '--store', p.store]).status, 0);
    // This process plays the daemon: its pid in daemon.pid and in the lock, which it lets go
    // of after a second.
    writeFileSync(join(p.store, 'daemon.pid'), String(process.pid));
    writeFileSync(join(p.store, 'sync.lock'), String(process.pid));
    const started = Date.now();
    setTimeout(() => {
      rmSync(join(p.store, 'sync.lock'), { force: true });
    }, 1000);
    const child = tetherAsync(['sync-dirs', p.a, p.b, '--store', p.store]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    t.is(code, 0, stderr);
    t.true(Date.now() - started >= 1000, 'it ran once the daemon let go');
    t.false(existsSync(join(p.store, 'sync.lock')), 'released after the run');
  } finally {
    p.cleanup();
  }
});

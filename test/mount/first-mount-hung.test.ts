// A first mount of a server that does not answer (issue 16: every call on the remote is the
// agent's, with a deadline): the remote is an sshfs share of an sshd on loopback, stopped
// (every call on the share hangs). `tether mount` fails within its deadlines with a message
// saying what was wrong and what to do, leaving nothing mounted and no base in the store; once
// the server is resumed the next `tether mount` works. A second mount with the server hung
// starts from the cache, offline from its first status on, keeps the writes made while hung and
// syncs them once the server answers. Every call the test makes is a child with a deadline.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REF_BASE } from '../../src/store/kv.js';
import { Store } from '../../src/store/store.js';
import { MAIN } from '../cli/run.js';
import { mountedAt } from '../sync/sshd.js';
import { eventually, modeDetail, sh, tetherRun } from './harness.js';
import { cannotSshfs, sshfsVolume } from './sshfs-remote.js';

const skipped = cannotSshfs === undefined ? '' : ` — skipped: ${cannotSshfs}`;
const serial = cannotSshfs === undefined ? test.serial : test.skip;

/** The store has no base (a first mount that failed kept nothing; no store at all is fine). */
async function noBase(t: ExecutionContext, dir: string): Promise<void> {
  const s = await Store.open(dir).catch(() => undefined);
  if (s === undefined) return;
  try {
    t.is(s.getRef(REF_BASE), undefined, 'no base in the store');
  } finally {
    await s.close();
  }
}

const fill = (e: string): void => {
  writeFileSync(join(e, 'a.txt'), 'a\n');
};

serial(
  `first mount of a hung server: fails in time, nothing kept; resumed: mounts${skipped}`,
  async (t) => {
    const v = await sshfsVolume(t, fill, {}, undefined, [], false);
    v.hang();
    const at = Date.now();
    const r = await v.mount(30_000);
    const ms = Date.now() - at;
    t.log(`tether mount of a hung server answered after ${ms} ms: ${r.stderr.trim()}`);
    t.false(r.timedOut, 'tether mount answered');
    t.not(r.status, 0);
    t.regex(r.stderr, /did not answer within 2 s/);
    t.regex(r.stderr, /run "tether mount" again/);
    t.true(ms < 10_000, `answered after ${ms} ms`);
    t.false(mountedAt(v.mnt), 'nothing mounted');
    await noBase(t, v.store);

    v.resume();
    const again = await v.mount(60_000);
    t.is(again.status, 0, again.stderr);
    t.is((await sh(`cat ${v.mnt}/a.txt`, 10_000)).stdout, 'a\n');
  },
);

serial(`first mount: the daemon's scan is cut when the server hangs${skipped}`, async (t) => {
  // The command's own look at the server is answered; the server hangs once the daemon runs
  // (its pid file is there), during its scan of a tree of some thousands of entries.
  const v = await sshfsVolume(
    t,
    (e) => {
      for (let d = 0; d < 200; d++) {
        mkdirSync(join(e, `d${d}`));
        for (let f = 0; f < 20; f++) writeFileSync(join(e, `d${d}`, `f${f}`), `${d}/${f}\n`);
      }
    },
    {},
    undefined,
    [],
    false,
  );
  const mounting = v.mount(30_000);
  t.true(await eventually(() => existsSync(join(v.store, 'daemon.pid')), 20_000, 5));
  v.hang();
  const hungAt = Date.now();
  const r = await mounting;
  const ms = Date.now() - hungAt;
  t.log(`answered ${ms} ms after the hang: ${r.stderr.trim()}`);
  t.false(r.timedOut, 'tether mount answered');
  t.true(ms < 10_000, `answered ${ms} ms after the hang`);
  t.not(r.status, 0, 'the scan was cut');
  t.regex(r.stderr, /did not answer within 2 s during the first scan/);
  t.false(mountedAt(v.mnt), 'nothing mounted');
  await noBase(t, v.store);
  v.resume();
  const again = await v.mount(60_000);
  t.is(again.status, 0, again.stderr);
  t.is((await sh(`cat ${v.mnt}/d7/f3`, 10_000)).stdout, '7/3\n');
});

serial(
  `second mount of a hung server: starts offline at once, syncs on resume${skipped}`,
  async (t) => {
    const v = await sshfsVolume(t, fill, { TETHER_PULL_MS: '500' });
    t.is((await sh(`cat ${v.mnt}/a.txt`, 10_000)).stdout, 'a\n');
    const un = await tetherRun(['unmount', v.mnt], 30_000);
    t.is(un.status, 0, un.stderr);
    v.hang();
    const r = await v.mount(30_000);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stderr + r.stdout, /mounts from its cache/);
    // The first status already says it: the daemon found the server silent before it mounted.
    t.is(await modeDetail(v.mnt), 'offline:failure');
    const events = await tetherRun(['events', v.mnt, '--json'], 15_000);
    t.regex(events.stdout, /"mode":"offline:failure"[^\n]*did not answer at mount/);
    const read = await sh(`cat ${v.mnt}/a.txt`, 5000);
    t.is(read.stdout, 'a\n');
    const w = await sh(`printf 'written while hung' > ${v.mnt}/b.txt && cat ${v.mnt}/b.txt`, 5000);
    t.is(w.stdout, 'written while hung', w.stderr);
    t.is(await modeDetail(v.mnt), 'offline:failure');

    v.resume();
    t.true(await eventually(async () => (await modeDetail(v.mnt)) === 'online', 30_000));
    t.true(
      await eventually(() => existsSync(join(v.exported, 'b.txt')), 30_000),
      'the write made while hung reached the server',
    );
    t.is(readFileSync(join(v.exported, 'b.txt'), 'utf8'), 'written while hung');
  },
);

serial(`a daemon told the server is silent looks for itself${skipped}`, async (t) => {
  // The command's word alone does not take the volume offline: the server answers the
  // daemon's own first look, so the volume starts in its stored mode (online).
  const v = await sshfsVolume(t, fill, { TETHER_PULL_MS: '500' });
  const un = await tetherRun(['unmount', v.mnt], 30_000);
  t.is(un.status, 0, un.stderr);
  const daemon = spawn(
    process.execPath,
    [MAIN, '__daemon', '--store', v.store, '--server-silent', v.share, v.mnt],
    { detached: true, stdio: 'ignore' },
  );
  daemon.unref();
  let first = '';
  t.true(
    await eventually(async () => {
      if (!mountedAt(v.mnt)) return false;
      first = await modeDetail(v.mnt);
      return !first.startsWith('status failed');
    }, 30_000),
  );
  t.is(first, 'online', 'the first status');
  const events = await tetherRun(['events', v.mnt, '--json'], 15_000);
  t.notRegex(events.stdout, /"mode":"offline/);
  t.is((await sh(`cat ${v.mnt}/a.txt`, 10_000)).stdout, 'a\n');
});

serial(
  `first mount: a directory listed for longer than the deadline still mounts${skipped}`,
  async (t) => {
    // One directory of 20,000 entries over sshfs takes seconds to list (names and lstats), many
    // times the metadata deadline set here: the scan is cut only when the server stops answering
    // (the heartbeat's stat), never for the size of a listing.
    const n = 20_000;
    const v = await sshfsVolume(
      t,
      (e) => {
        mkdirSync(join(e, 'big'));
        for (let i = 0; i < n; i++) writeFileSync(join(e, 'big', `f${i}`), '');
      },
      { TETHER_DEADLINE_MS: '500' },
      undefined,
      [],
      false,
    );
    const at = Date.now();
    const r = await v.mount(120_000);
    t.log(
      `first mount of ${n} entries in one directory with a 500 ms deadline: ${Date.now() - at} ms`,
    );
    t.is(r.status, 0, r.stderr);
    const ls = await sh(`ls ${v.mnt}/big | wc -l`, 60_000);
    t.is(ls.stdout.trim(), String(n));
  },
);

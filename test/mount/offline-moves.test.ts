// Renames and hard links of files never fetched, done offline through the kernel: they work
// (no content is needed to move a name), and the reconnect puts the files at their new paths
// on the server with their own bytes (a rename there, no data sent), nothing left at the old
// paths, and zeros nowhere; with the server's edit or removal meanwhile as MERGE.md says; and
// after a kill -9 of the daemon right after the move.
import test, { type ExecutionContext } from 'ava';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  cannotMount,
  eventually,
  modeDetail,
  mounted,
  sh,
  tetherRun,
  type Volume,
} from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;
const QUIET = { TETHER_PULL_MS: '600000' };

/** Distinct, non-zero bytes for each file. */
const bytesOf = (name: string): string => `${name}\n`.repeat(200);

function fill(r: string): void {
  writeFileSync(join(r, 'a.txt'), bytesOf('a'));
  writeFileSync(join(r, 'h.txt'), bytesOf('h'));
  mkdirSync(join(r, 'dir'));
  for (const n of ['x', 'y', 'z']) writeFileSync(join(r, 'dir', `${n}.txt`), bytesOf(n));
  writeFileSync(join(r, 'stay.txt'), bytesOf('stay'));
}

/** Every regular file under `root` whose bytes are all zeros (a placeholder's, copied). */
function zeroFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size > 0 && readFileSync(p).every((b) => b === 0)) out.push(p);
    }
  };
  walk(root);
  return out;
}

const MOVES = [
  `mv $M/a.txt $M/b.txt`,
  `mv $M/dir $M/moved`,
  `mkdir $M/new && mv $M/moved/z.txt $M/new/z.txt`,
  `ln $M/h.txt $M/h-link.txt`,
];

async function moveOffline(t: ExecutionContext, v: Volume): Promise<void> {
  t.is((await tetherRun(['offline', v.mnt])).status, 0);
  const w = await sh(MOVES.join(' && ').replaceAll('$M', v.mnt));
  t.is(w.status, 0, w.stderr);
  // Still never fetched under their new names: reading them offline is ENODATA.
  const cat = await sh(`cat ${v.mnt}/b.txt`);
  t.regex(cat.stderr, /No data available/);
}

/** The server after the moves' reconnect: new paths, original bytes, nothing at old ones. */
function checkMoved(t: ExecutionContext, v: Volume, ino: Map<string, number>): void {
  const r = v.remote;
  t.is(readFileSync(join(r, 'b.txt'), 'utf8'), bytesOf('a'));
  t.false(existsSync(join(r, 'a.txt')));
  t.false(existsSync(join(r, 'dir')));
  t.is(readFileSync(join(r, 'moved', 'x.txt'), 'utf8'), bytesOf('x'));
  t.is(readFileSync(join(r, 'moved', 'y.txt'), 'utf8'), bytesOf('y'));
  t.false(existsSync(join(r, 'moved', 'z.txt')));
  t.is(readFileSync(join(r, 'new', 'z.txt'), 'utf8'), bytesOf('z'));
  t.is(readFileSync(join(r, 'h.txt'), 'utf8'), bytesOf('h'));
  t.is(readFileSync(join(r, 'h-link.txt'), 'utf8'), bytesOf('h'));
  t.is(readFileSync(join(r, 'stay.txt'), 'utf8'), bytesOf('stay'));
  // Renamed on the server, not copied: the same files.
  t.is(lstatSync(join(r, 'b.txt')).ino, ino.get('a.txt') ?? -1);
  t.deepEqual(zeroFiles(r), []);
}

const stateOf = async (p: string): Promise<string> =>
  (await sh(`getfattr --only-values -n user.tether.state ${p}`)).stdout;

async function checkAfter(t: ExecutionContext, v: Volume): Promise<void> {
  // A plain file rename was replayed on the server: nothing was fetched for it.
  t.is(await stateOf(`${v.mnt}/b.txt`), 'remote-only');
  // The mount shows the same bytes, and nothing is left to do.
  t.is((await sh(`cat ${v.mnt}/b.txt`)).stdout, bytesOf('a'));
  t.is((await sh(`cat ${v.mnt}/moved/y.txt`)).stdout, bytesOf('y'));
  t.is(
    (await sh(`cat ${v.mnt}/new/z.txt ${v.mnt}/h-link.txt`)).stdout,
    bytesOf('z') + bytesOf('h'),
  );
  const dry = await tetherRun(['sync', v.mnt, '--dry-run', '--json']);
  t.is((JSON.parse(dry.stdout) as { plan: { actions: unknown[] } }).plan.actions.length, 0);
  await v.unmount();
  const fsck = await tetherRun(['fsck', '--store', v.store]);
  t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
}

const inodes = (r: string): Map<string, number> =>
  new Map([['a.txt', lstatSync(join(r, 'a.txt')).ino]]);

serial(`offline mv and ln of never-fetched files reach the server whole${skipped}`, async (t) => {
  const v = await mounted(t, fill, QUIET);
  const ino = inodes(v.remote);
  await moveOffline(t, v);
  const online = await tetherRun(['online', v.mnt]);
  t.is(online.status, 0, online.stdout + online.stderr);
  checkMoved(t, v, ino);
  await checkAfter(t, v);
});

serial(
  `kill -9 right after an offline mv: the remount reconnects just as well${skipped}`,
  async (t) => {
    const v = await mounted(t, fill, QUIET);
    const ino = inodes(v.remote);
    await moveOffline(t, v);
    const pid = Number(readFileSync(join(v.store, 'daemon.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await eventually(() => !existsSync(`/proc/${pid}`));
    const r = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store], 60_000, {
      ...process.env,
      ...QUIET,
    });
    t.is(r.status, 0, r.stderr);
    t.regex((await sh(`cat ${v.mnt}/moved/x.txt`)).stderr, /No data available/);
    const online = await tetherRun(['online', v.mnt]);
    t.is(online.status, 0, online.stdout + online.stderr);
    checkMoved(t, v, ino);
    await checkAfter(t, v);
  },
);

serial(
  `a file moved offline that the server edited or removed meanwhile: nothing lost, no zeros${skipped}`,
  async (t) => {
    const v = await mounted(t, fill, QUIET);
    t.is((await tetherRun(['offline', v.mnt])).status, 0);
    const w = await sh(`mv ${v.mnt}/a.txt ${v.mnt}/b.txt && mv ${v.mnt}/h.txt ${v.mnt}/g.txt`);
    t.is(w.status, 0, w.stderr);
    writeFileSync(join(v.remote, 'a.txt'), 'edited on the server\n');
    rmSync(join(v.remote, 'h.txt'));
    const online = await tetherRun(['online', v.mnt]);
    t.true(online.status === 0 || online.status === 3, online.stdout + online.stderr);
    // Edit against move: the edit is kept at the old name (with a record), and the moved name
    // holds the only version there is now, the server's.
    t.is(readFileSync(join(v.remote, 'a.txt'), 'utf8'), 'edited on the server\n');
    t.is(readFileSync(join(v.remote, 'b.txt'), 'utf8'), 'edited on the server\n');
    const records =
      (await tetherRun(['conflicts', v.mnt])).stdout +
      (await tetherRun(['conflicts', v.mnt, '--history'])).stdout;
    t.regex(records, /a\.txt/);
    // Removed against move: its bytes were never anywhere but the server; no name keeps zeros.
    t.false(existsSync(join(v.remote, 'g.txt')));
    t.false(existsSync(join(v.remote, 'h.txt')));
    t.deepEqual(zeroFiles(v.remote), []);
    t.is((await sh(`cat ${v.mnt}/b.txt`)).stdout, 'edited on the server\n');
    await v.unmount();
    const fsck = await tetherRun(['fsck', '--store', v.store]);
    t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
  },
);

serial(`online, a rename of a never-fetched file fetches nothing${skipped}`, async (t) => {
  const v = await mounted(t, fill, { TETHER_PULL_MS: '600000', TETHER_FLUSH_MS: '100' });
  const ino = lstatSync(join(v.remote, 'a.txt')).ino;
  const w = await sh(`mv ${v.mnt}/a.txt ${v.mnt}/b.txt`);
  t.is(w.status, 0, w.stderr);
  t.true(await eventually(() => existsSync(join(v.remote, 'b.txt'))));
  t.false(existsSync(join(v.remote, 'a.txt')));
  t.is(lstatSync(join(v.remote, 'b.txt')).ino, ino);
  t.is(await stateOf(`${v.mnt}/b.txt`), 'remote-only');
  const r = await sh(`cat ${v.mnt}/b.txt`);
  t.is(r.stdout, bytesOf('a'), `${r.stderr}; mode ${await modeDetail(v.mnt)}`);
  await v.unmount();
  const fsck = await tetherRun(['fsck', '--store', v.store]);
  t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
});

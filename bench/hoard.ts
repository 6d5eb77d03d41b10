// Benchmark (issue 16, Performance): hoarding a pinned directory over a real sshfs share (an
// sshd on loopback) against `cp -a` and `rsync -a` of the same directory from the same share,
// in the same run, and how fast any reader gets those bytes out of the share at all (parallel
// cats, one tar: the ceiling); then the time from a server hang to the first answered request in the
// mount, and from the server's resume to a completed automatic sync.
//
// Sizes: BENCH_FILES (20000), BENCH_MB (200), BENCH_DIR (where the work directory is made;
// default the temp dir), BENCH_KEEP=1 keeps it. The last line printed is one JSON summary.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountedAt, processTree, signalAll, sshfsArgs, startSshd } from '../test/sync/sshd.js';
import { generateTree, makePool, mulberry32 } from './lib/gentree.js';
import { envInt, must, round3, tether, timed } from './lib/run.js';

const FILES = envInt('BENCH_FILES', 20_000);
const MB = envInt('BENCH_MB', 200);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds (user + system) the processes of `pids` have used so far, by their command name
 * (`label` may name one otherwise).
 */
function cpuByName(
  pids: readonly number[],
  label: (pid: number) => string | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
      const name = label(pid) ?? stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / 100; // utime, stime: clock ticks
      out.set(name, (out.get(name) ?? 0) + s);
    } catch {
      // gone
    }
  }
  return out;
}

/** Where a run's CPU went: seconds per command name, `after` less `before`. */
function cpuSpent(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of after) out[name] = round3(s - (before.get(name) ?? 0));
  return out;
}

/** The pid of the `name` process whose command line names `arg` (none: empty). */
function findPid(name: string, arg: string): number[] {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith(name) === true && cmd.includes(arg)) return [Number(p)];
    } catch {
      // gone
    }
  }
  return [];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env['BENCH_DIR'] ?? tmpdir(), 'tether-bench-hoard-'));
  const exported = join(work, 'exported');
  const share = join(work, 'share');
  const mnt = join(work, 'mnt');
  const store = join(work, 'store');
  for (const d of [exported, share, mnt]) mkdirSync(d);
  const rnd = mulberry32(16);
  generateTree(join(exported, 'tree'), {
    files: FILES,
    totalBytes: MB * 1024 * 1024,
    pool: makePool(1 << 22, rnd),
  });
  writeFileSync(join(exported, 'outside.txt'), 'not pinned\n');
  const sshd = await startSshd(work);
  const all = (): number[] => processTree(sshd.proc.pid ?? 0);
  let stopped: number[] = [];
  try {
    must(['sshfs', ...sshfsArgs(sshd, exported, share, { more: ['reconnect'] })]);
    const cp = timed(['cp', '-a', join(share, 'tree'), join(work, 'cp-copy')]);
    const rsync = timed(['rsync', '-a', join(share, 'tree') + '/', join(work, 'rsync-copy') + '/']);
    // The ceiling: how fast any reader gets these bytes out of this share (16 readers of 64
    // files each at a time; one tar's sequential walk), nothing written.
    const tree = join(share, 'tree');
    const catAll = must([
      'sh',
      '-c',
      `find ${tree} -type f -print0 | xargs -0 -P16 -n64 cat > /dev/null`,
    ]);
    const tarAll = must(['sh', '-c', `tar cf - -C ${tree} . | cat > /dev/null`]);
    const mount = tether(['mount', share, mnt, '--store', store], {
      env: { ...process.env, TETHER_PULL_MS: '600000' },
    });
    tether(['pin', '--recursive', join(mnt, 'tree')]);
    // The daemon and its agents, the sshfs client and the sshd's sftp servers: their CPU
    // during the hoard says where its time goes (on a loaded machine, with the wall times).
    const daemon = Number(readFileSync(join(store, 'daemon.pid'), 'utf8'));
    const sshfsPid = findPid('sshfs', share);
    const pids = (): number[] => [...processTree(daemon), ...all(), ...sshfsPid];
    const label = (pid: number): string | undefined =>
      pid === daemon ? 'tether daemon' : pid === sshd.proc.pid ? 'sshd' : undefined;
    const cpuBefore = cpuByName(pids(), label);
    const hoard = tether(['hoard', mnt, '--json']);
    const cpu = cpuSpent(cpuBefore, cpuByName(pids(), label));
    const h = JSON.parse(hoard.stdout) as { done: number; failed: number };
    if (h.failed > 0 || h.done !== FILES) throw new Error(`hoard: ${hoard.stdout}`);

    // A server hang: the first request to the mount that needs the server is answered
    // (ENODATA) after the agent's deadline; then a write, a resume, and the automatic sync.
    stopped = all();
    signalAll(stopped, 'SIGSTOP');
    const hungAt = Date.now();
    const first = timed(['sh', '-c', `cat ${mnt}/outside.txt`], {
      timeout: 20_000,
    });
    const hangToAnswer = (Date.now() - hungAt) / 1000;
    must(['sh', '-c', `printf x > ${mnt}/written-offline.txt`], { timeout: 10_000 });
    await sleep(3000); // the failed fetch took the volume offline
    const resumedAt = Date.now();
    signalAll(stopped, 'SIGCONT');
    stopped = [];
    while (!existsSync(join(exported, 'written-offline.txt')) && Date.now() - resumedAt < 120_000) {
      await sleep(50);
    }
    const resumeToSync = (Date.now() - resumedAt) / 1000;
    const faster = Math.min(cp.seconds, rsync.seconds);
    const summary = {
      files: FILES,
      mb: MB,
      mount_s: round3(mount.seconds),
      hoard_s: round3(hoard.seconds),
      cp_a_s: round3(cp.seconds),
      rsync_a_s: round3(rsync.seconds),
      speedup_vs_faster: round3(faster / hoard.seconds),
      bound_parallel_cat_s: round3(catAll.seconds),
      bound_tar_s: round3(tarAll.seconds),
      hang_to_first_answer_s: round3(hangToAnswer),
      first_answer: first.status === 0 ? 'content (unexpected)' : first.stderr.trim(),
      resume_to_synced_s: round3(resumeToSync),
      hoard_cpu_s: cpu,
    };
    console.log(
      `hoard of ${FILES} files / ${MB} MB over sshfs: tether ${summary.hoard_s} s, cp -a ${summary.cp_a_s} s, ` +
        `rsync -a ${summary.rsync_a_s} s (${summary.speedup_vs_faster}x the faster); mount ${summary.mount_s} s`,
    );
    console.log(
      `reading it all, nothing written: 16 parallel cats ${summary.bound_parallel_cat_s} s, tar ${summary.bound_tar_s} s`,
    );
    console.log(
      `server hang → first answer ${summary.hang_to_first_answer_s} s; resume → synced ${summary.resume_to_synced_s} s`,
    );
    console.log(JSON.stringify(summary));
  } finally {
    signalAll(stopped, 'SIGCONT');
    if (mountedAt(mnt)) {
      const r = spawnSync(
        process.execPath,
        [join(import.meta.dirname, '..', 'tether.cjs'), 'unmount', mnt],
        {
          timeout: 60_000,
        },
      );
      if (r.status !== 0) spawnSync('fusermount', ['-uz', mnt]);
    }
    if (mountedAt(share)) spawnSync('fusermount', ['-uz', share]);
    signalAll(all(), 'SIGKILL');
    if (process.env['BENCH_KEEP'] !== '1' && !mountedAt(share) && !mountedAt(mnt)) {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

await main();

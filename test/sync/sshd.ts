// An sshd on loopback for tests that need a real network filesystem: the server replica is
// mounted through sshfs (FUSE), as users mount a share.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const SSHD = '/usr/sbin/sshd';
/** Why sshfs tests cannot run here, or undefined. */
export const why = !existsSync('/dev/fuse')
  ? 'no /dev/fuse'
  : process.getuid?.() !== 0
    ? 'not root (sshd and mounts need it)'
    : !has('sshfs') || !has('ssh') || !has('ssh-keygen') || !existsSync(SSHD)
      ? 'sshfs, ssh or sshd is not installed (.ci/run installs them)'
      : undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export async function startSshd(
  dir: string,
  /** SFTP requests the server refuses (internal-sftp's -P: "hardlink"…). */
  deny: readonly string[] = [],
): Promise<{ port: number; key: string; proc: ChildProcess }> {
  const port = await freePort();
  const hostKey = join(dir, 'host_key');
  const key = join(dir, 'client_key');
  for (const k of [hostKey, key]) {
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(key + '.pub'));
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      `Subsystem sftp internal-sftp${deny.length > 0 ? ` -P ${deny.join(',')}` : ''}`,
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const proc = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Wait until it accepts connections.
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync('ssh', [...sshOpts(port, key), 'root@127.0.0.1', 'true']);
    if (probe.status === 0) return { port, key, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error('sshd did not come up');
}

export function sshOpts(port: number, key: string): string[] {
  return [
    '-p',
    String(port),
    '-i',
    key,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
  ];
}

/** Options of an sshfs mount of a test sshd: no caches (a change made on the server must be
 * seen, as by any client of a share with them off), and `more` after them. */
export function sshfsArgs(
  sshd: { readonly port: number; readonly key: string },
  exported: string,
  at: string,
  o: { readonly user?: string | undefined; readonly more?: readonly string[] } = {},
): string[] {
  return [
    `${o.user ?? 'root'}@127.0.0.1:${exported}`,
    at,
    '-p',
    String(sshd.port),
    '-o',
    [
      `IdentityFile=${sshd.key}`,
      'StrictHostKeyChecking=no',
      'UserKnownHostsFile=/dev/null',
      'BatchMode=yes',
      'dir_cache=no',
      'attr_timeout=0',
      'entry_timeout=0',
      'negative_timeout=0',
      ...(o.more ?? []),
    ].join(','),
  ];
}

/** True while something is mounted at `dir`. */
export const mountedAt = (dir: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `);

/** The FUSE connection of a mount, to abort it if a process hangs on it. */
export function fuseConnection(mnt: string): string {
  const dev = statSync(mnt).dev;
  return join('/sys/fs/fuse/connections', String((dev & 0xff) | ((dev >> 12) & 0xfff00)));
}

/** `root` and every process descended from it (sshd forks a process per session). */
export function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

export function signalAll(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // gone
    }
  }
}

/**
 * Options for a tether run against the share that is not about hangs: the metadata deadline
 * (2 s) raised, since sshfs on a loaded machine can take longer to answer one call.
 */
export const PATIENT = { env: { ...process.env, TETHER_DEADLINE_MS: '10000' } };

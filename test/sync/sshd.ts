// An sshd on loopback for tests that need a real network filesystem: the server replica is
// mounted through sshfs (FUSE), as users mount a share.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
      'Subsystem sftp internal-sftp',
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

// `tether mount REMOTE MOUNTPOINT`: bind REMOTE to a volume (its store) on first use, start the
// volume's daemon, and return once the mount answers. `--foreground` runs the daemon here.
// Views an earlier, dead daemon of the same store left mounted are unmounted first.
import { Command, Option } from 'clipanion';
import { resolve } from 'node:path';
import { TetherError } from '../src/errors.js';
import { NOTIFY_ENV } from '../src/daemon/notify.js';
import { cleanUpOrphanViews } from '../src/daemon/with-volume.js';
import { defaultStoreFor } from '../src/volume/layout.js';
import { parseSize } from '../src/volume/size-arg.js';
import { mountVolume } from '../src/daemon/volume-start.js';
import { TetherCommand } from './base.js';

export class MountCommand extends TetherCommand {
  static override paths = [['mount']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'mount a remote directory as a volume that keeps working offline',
    details: `
      REMOTE is a directory on a server (an NFS, SMB or sshfs mount, or any directory). The
      mount shows it with a cache behind it: files are fetched when first opened, changes go to
      REMOTE shortly after they are made (and at fsync), and REMOTE's own changes appear within
      a couple of seconds. \`tether offline\` (or a failing server) makes the mount a writable
      snapshot over the cache; \`tether online\` merges both sides' changes three ways.

      The volume's store defaults to a directory under \`$XDG_DATA_HOME/tether/volumes/\`
      named after REMOTE. MOUNTPOINT must be an empty directory. Others cannot enter the mount
      unless \`--allow-other\` is given.

      \`--cache-size\` limits what the cache takes (the store and fetched content): past it,
      clean files are evicted least recently used first and fetched again when next opened.
      Pinned files, changes not yet synced and conflict variants are never evicted; when only
      they are left, writes fail with ENOSPC. \`--pin-cache-size\` gives pinned content its
      own limit (past it, it counts against --cache-size too). Limits are kept with the volume:
      a later mount without them keeps them.
    `,
    examples: [
      ['Mount a share', '$0 mount ~/nfs/projects ~/work'],
      ['With a chosen store', '$0 mount /srv/share /mnt/work --store ~/.tether-work'],
      ['With a 2 GiB cache', '$0 mount ~/nfs/projects ~/work --cache-size 2G'],
    ],
  });

  store = Option.String('--store', { description: "The volume's store directory" });
  foreground = Option.Boolean('--foreground', false, {
    description: 'Run the daemon in this process (until unmounted)',
  });
  allowOther = Option.Boolean('--allow-other', false, {
    description: "Let other users enter the mount (with the kernel's permission checks)",
  });
  cacheSize = Option.String('--cache-size', {
    description: 'Limit the cache to SIZE (500M, 2G…); kept for later mounts',
  });
  pinCacheSize = Option.String('--pin-cache-size', {
    description: 'Limit pinned content to SIZE, apart from --cache-size',
  });
  /** Gone: tether has one FUSE binding. Kept to say so rather than "unknown option". */
  binding = Option.String('--binding', { hidden: true });
  notify = Option.Boolean('--notify', false, {
    description:
      'Send desktop notifications (notify-send) of mode changes, conflicts, data unavailable, cache full and auth-required',
  });
  remote = Option.String({ name: 'REMOTE' });
  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  async execute(): Promise<number> {
    if (this.binding !== undefined) {
      throw new TetherError(
        'EUSAGE',
        `--binding is gone: tether mounts through its own libfuse 3 binding only (fuse-native was removed); drop --binding ${this.binding}`,
      );
    }
    // The daemon inherits this choice through its environment.
    if (this.notify) process.env[NOTIFY_ENV] = '1';
    const log = (line: string): boolean => this.context.stderr.write(`tether: ${line}\n`);
    const remote = resolve(this.remote);
    await cleanUpOrphanViews(
      this.store === undefined ? defaultStoreFor(remote) : resolve(this.store),
      log,
    );
    const cacheSize =
      this.cacheSize === undefined ? undefined : parseSize(this.cacheSize, '--cache-size');
    const pinCacheSize =
      this.pinCacheSize === undefined
        ? undefined
        : parseSize(this.pinCacheSize, '--pin-cache-size');
    const r = await mountVolume({
      remote,
      mountpoint: resolve(this.mountpoint),
      ...(this.store === undefined ? {} : { store: resolve(this.store) }),
      foreground: this.foreground,
      allowOther: this.allowOther,
      ...(cacheSize === undefined ? {} : { cacheSize }),
      ...(pinCacheSize === undefined ? {} : { pinCacheSize }),
      launcher: process.argv[1] ?? '',
      log,
    });
    if (!this.foreground) this.out(`mounted ${r.remote} at ${r.mountpoint} (store ${r.store})`);
    return 0;
  }
}

/** The daemon itself, started detached by `tether mount` (not for users). */
export class DaemonCommand extends TetherCommand {
  static override paths = [['__daemon']];

  store = Option.String('--store', { required: true });
  allowOther = Option.Boolean('--allow-other', false);
  cacheSize = Option.String('--cache-size');
  pinCacheSize = Option.String('--pin-cache-size');
  serverSilent = Option.Boolean('--server-silent', false);
  remote = Option.String({ name: 'REMOTE' });
  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  async execute(): Promise<number> {
    const { runDaemon } = await import('../src/daemon/volume-daemon.js');
    await runDaemon({
      storeDir: this.store,
      remote: this.remote,
      mountpoint: this.mountpoint,
      allowOther: this.allowOther,
      serverSilent: this.serverSilent,
      ...(this.cacheSize === undefined ? {} : { cacheSize: Number(this.cacheSize) }),
      ...(this.pinCacheSize === undefined ? {} : { pinCacheSize: Number(this.pinCacheSize) }),
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    return 0;
  }
}

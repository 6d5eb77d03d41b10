// `tether mount --snapshot NAME MOUNTPOINT2 (--store S | --of MOUNTPOINT)` and `tether mount
// --variant local|server|base MOUNTPOINT2 --of MOUNTPOINT`: a read-only view, served by a
// daemon of its own. `tether unmount MOUNTPOINT2` stops it.
import { Command, Option } from 'clipanion';
import { resolve } from 'node:path';
import { TetherError } from '../src/errors.js';
import type { ViewOf } from '../src/daemon/view-daemon.js';
import { VARIANTS, type Variant } from '../src/view/roots.js';
import { TetherCommand } from './base.js';

function viewOf(snapshot: string | undefined, variant: string | undefined): ViewOf {
  if (snapshot !== undefined && variant !== undefined) {
    throw new TetherError('EUSAGE', 'give --snapshot or --variant, not both');
  }
  if (snapshot !== undefined) return { snapshot };
  if (variant === undefined) {
    throw new TetherError(
      'EUSAGE',
      'to mount a volume give REMOTE and MOUNTPOINT; to mount a view give --snapshot NAME or --variant local|server|base',
    );
  }
  if (!VARIANTS.includes(variant as Variant)) {
    throw new TetherError(
      'EUSAGE',
      `--variant must be one of ${VARIANTS.join(', ')}, not "${variant}"`,
    );
  }
  return { variant: variant as Variant };
}

export class MountViewCommand extends TetherCommand {
  static override paths = [['mount']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'mount a read-only view: a snapshot, or a volume as one side sees it',
    details: `
      \`--snapshot NAME\` shows a snapshot of the store (\`--store DIR\`) or of a mounted
      volume (\`--of MOUNTPOINT\`). \`--variant local|server|base\` shows the volume at
      \`--of MOUNTPOINT\` as that side sees it: every conflicted path shows that side's version
      under its canonical name, and the view follows the volume as its conflicts change.

      Views are read-only (writes fail with EROFS). A file whose content the store never had
      fails with ENODATA; \`tether why PATH\` says so. The same views are inside every
      mounted volume, hidden, at \`.tether/snapshots/NAME\` and \`.tether/variants/SIDE\`.
    `,
    examples: [
      ['A snapshot of a volume', '$0 mount --snapshot monday ~/monday --of ~/work'],
      ["The server's side of every conflict", '$0 mount --variant server ~/theirs --of ~/work'],
    ],
  });

  snapshot = Option.String('--snapshot', { description: 'The snapshot to show' });
  variant = Option.String('--variant', { description: 'The side to show: local, server or base' });
  of = Option.String('--of', { description: 'The mounted volume (its mount point)' });
  store = Option.String('--store', { description: 'The store (instead of --of)' });
  foreground = Option.Boolean('--foreground', false, {
    description: 'Run the view daemon in this process (until unmounted)',
  });
  allowOther = Option.Boolean('--allow-other', false, {
    description: 'Let other users enter the view',
  });
  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  async execute(): Promise<number> {
    const { mountView } = await import('../src/daemon/view-start.js');
    const mp = resolve(this.mountpoint);
    const r = await mountView({
      mountpoint: mp,
      of: viewOf(this.snapshot, this.variant),
      ...(this.store === undefined ? {} : { store: resolve(this.store) }),
      ...(this.of === undefined ? {} : { volume: resolve(this.of) }),
      foreground: this.foreground,
      allowOther: this.allowOther,
      launcher: process.argv[1] ?? '',
      log: (line) => this.context.stderr.write(`tether: ${line}\n`),
    });
    if (!this.foreground) this.out(`mounted the ${r.what} of ${r.store} at ${mp} (read-only)`);
    return 0;
  }
}

/** A view's daemon, started detached by `tether mount --snapshot|--variant` (not for users). */
export class ViewDaemonCommand extends TetherCommand {
  static override paths = [['__view-daemon']];

  store = Option.String('--store', { required: true });
  snapshot = Option.String('--snapshot');
  variant = Option.String('--variant');
  allowOther = Option.Boolean('--allow-other', false);
  mountpoint = Option.String({ name: 'MOUNTPOINT' });

  async execute(): Promise<number> {
    const { runViewDaemon } = await import('../src/daemon/view-daemon.js');
    const { viewDirOf } = await import('../src/view/layout.js');
    await runViewDaemon({
      storeDir: this.store,
      viewDir: viewDirOf(this.store, this.mountpoint),
      mountpoint: this.mountpoint,
      of: viewOf(this.snapshot, this.variant),
      allowOther: this.allowOther,
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    return 0;
  }
}

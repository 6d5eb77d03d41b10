// `tether status [PATH]`: a volume's mode, what is dirty (changed since the last sync), how
// many files are remote-only, the open conflicts, and the last sync.
import { Command, Option } from 'clipanion';
import type { VolumeStatus } from '../src/volume/volume.js';
import { display } from '../src/tree/index.js';
import { TetherCommand } from './base.js';
import { locateView } from '../src/view/find.js';
import { request } from '../src/volume/control.js';
import { ask, locateOrThrow, QUICK_MS } from './volume.js';

export class StatusCommand extends TetherCommand {
  static override paths = [['status']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: "show a mounted volume's mode, dirty paths and conflicts",
    examples: [
      ['The volume this directory is in', '$0 status'],
      ['As JSON', '$0 status ~/work --json'],
    ],
  });

  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  target = Option.String({ name: 'PATH', required: false });

  async execute(): Promise<number> {
    const view = locateView(this.target ?? '.');
    if (view !== undefined) return this.viewStatus(view.viewDir);
    const l = locateOrThrow(this.target ?? '.');
    const r = await ask(l, { op: 'status' }, 60_000);
    const s = r['status'] as VolumeStatus;
    if (this.asJson) {
      this.json({ mountpoint: l.mountpoint, ...s });
      return 0;
    }
    const mode = (r['status'] as { modeDetail?: string }).modeDetail ?? s.mode;
    this.out(`${l.mountpoint}: ${mode} (remote ${s.remote}, store ${s.store})`);
    this.out(`remote-only files: ${s.placeholders}`);
    this.out(
      `cache: ${mib(s.cache.localBytes)} in the local view, ${mib(s.cache.storeBytes)} in the store`,
    );
    const lim = (s as { cacheLimit?: CacheLimitStatus }).cacheLimit;
    if (lim?.cacheSize !== undefined || lim?.pinCacheSize !== undefined) {
      const pin =
        lim.pinCacheSize === undefined
          ? ''
          : `; pinned ${mib(lim.pinned)} of ${mib(lim.pinCacheSize)}`;
      const auto =
        lim.cacheSize === undefined
          ? 'no limit'
          : `${mib(lim.automatic)} of ${mib(lim.cacheSize)}${lim.full ? ', full' : ''}`;
      this.out(`cache limit: ${auto}${pin}`);
    }
    this.out(
      `dirty: ${s.dirty.length} (${s.provisional} provisional: new here, not on the server yet)`,
    );
    for (const d of s.dirty) this.out(`  ${d.status} ${display(d.path)}`);
    this.out(`conflicts: ${s.conflicts.length}`);
    for (const c of s.conflicts) {
      this.out(
        `  ${display(c.path)} (${c.kind})${c.variant === undefined ? '' : ` -> ${display(c.variant)}`}`,
      );
    }
    if (s.lastSync !== undefined) {
      this.out(
        `last sync: ${new Date(s.lastSync.at).toISOString()}, ${s.lastSync.applied} actions`,
      );
    }
    if (s.lastError !== undefined) this.out(`last error: ${s.lastError}`);
    return 0;
  }

  /** A read-only view: what it shows, of which store. */
  private async viewStatus(viewDir: string): Promise<number> {
    const v = (await request(viewDir, { op: 'status' }, QUICK_MS))['view'] as {
      of: { snapshot?: string; variant?: string };
      store: string;
      mountpoint: string;
    };
    if (this.asJson) this.json({ view: v });
    else {
      const what =
        v.of.snapshot === undefined
          ? `${v.of.variant ?? ''} variant`
          : `snapshot "${v.of.snapshot}"`;
      this.out(`${v.mountpoint}: read-only view, the ${what} of the store ${v.store}`);
    }
    return 0;
  }
}

/** The daemon's cache limits and what counts against them (culler.ts). */
interface CacheLimitStatus {
  readonly cacheSize?: number;
  readonly pinCacheSize?: number;
  readonly automatic: number;
  readonly pinned: number;
  readonly full: boolean;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

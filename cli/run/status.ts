// The body of `tether status [PATH]` (cli/status.ts parses it; so does cli/thin.ts): a
// volume's mode, what is dirty (changed since the last sync), how many files are remote-only,
// the open conflicts and the last sync; or what a read-only view shows.
import type { VolumeStatus } from '../../src/volume/volume.js';
import { display } from '../../src/tree/bytes.js';
import { locateView } from '../../src/view/find.js';
import { request } from '../../src/volume/control.js';
import type { Io } from '../output.js';
import { ask, locateOrThrow, QUICK_MS } from '../volume.js';

export async function status(target: string | undefined, asJson: boolean, io: Io): Promise<number> {
  const view = locateView(target ?? '.');
  if (view !== undefined) return viewStatus(view.viewDir, asJson, io);
  const l = locateOrThrow(target ?? '.');
  const r = await ask(l, { op: 'status' }, 60_000);
  const s = r['status'] as VolumeStatus;
  if (asJson) {
    io.json({ mountpoint: l.mountpoint, ...s });
    return 0;
  }
  const mode = (r['status'] as { modeDetail?: string }).modeDetail ?? s.mode;
  io.out(`${l.mountpoint}: ${mode} (remote ${s.remote}, store ${s.store})`);
  io.out(`remote-only files: ${s.placeholders}`);
  io.out(
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
    io.out(`cache limit: ${auto}${pin}`);
  }
  io.out(
    `dirty: ${s.dirty.length} (${s.provisional} provisional: new here, not on the server yet)`,
  );
  for (const d of s.dirty) io.out(`  ${d.status} ${display(d.path)}`);
  io.out(`conflicts: ${s.conflicts.length}`);
  for (const c of s.conflicts) {
    io.out(
      `  ${display(c.path)} (${c.kind})${c.variant === undefined ? '' : ` -> ${display(c.variant)}`}`,
    );
  }
  if (s.lastSync !== undefined) {
    io.out(`last sync: ${new Date(s.lastSync.at).toISOString()}, ${s.lastSync.applied} actions`);
  }
  if (s.lastError !== undefined) io.out(`last error: ${s.lastError}`);
  return 0;
}

/** A read-only view: what it shows, of which store. */
async function viewStatus(viewDir: string, asJson: boolean, io: Io): Promise<number> {
  const v = (await request(viewDir, { op: 'status' }, QUICK_MS))['view'] as {
    of: { snapshot?: string; variant?: string };
    store: string;
    mountpoint: string;
  };
  if (asJson) io.json({ view: v });
  else {
    const what =
      v.of.snapshot === undefined ? `${v.of.variant ?? ''} variant` : `snapshot "${v.of.snapshot}"`;
    io.out(`${v.mountpoint}: read-only view, the ${what} of the store ${v.store}`);
  }
  return 0;
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

// `tether sync-dirs A B`: the sync engine (engine/engine.ts) bound to two local directories.
//
//   guard → binding → lock → each directory's mtime granularity → the engine's run (finish an
//   interrupted run, scan, merge, text merges, plan, apply, commit).
//
// A dry run takes no lock and writes nothing: it runs the engine up to the plan.
import { resolve } from 'node:path';
import type { ScanOptions } from '../scan/scan-replica.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { MTIME_WINDOW_NS, mtimeWindowOf, stableStatOf } from '../scan/stamp.js';
import { asBytes, REF_BASE } from '../store/kv.js';
import type { Store } from '../store/store.js';
import { checkBinding } from './binding.js';
import { localDirSide, serverDirSide } from './dir-sides.js';
import { runEngine, type EngineOptions, type SyncSummary } from './engine/engine.js';
import { systemClock, type Clock, type ScanRequest } from './engine/ports.js';
import type { Hash } from '../tree/index.js';
import { checkReplicas } from './guard.js';
import { releaseSyncLock, takeSyncLock } from './lock.js';

export type { SyncPhase, SyncSummary } from './engine/engine.js';
export { automergeEnabled, setAutomerge } from './engine/settings.js';

export interface SyncDirsOptions extends EngineOptions {
  /** Keep and use the scan caches (default true; false scans everything as if new). */
  readonly scanCache?: boolean;
  /**
   * An empty server replica is expected (the caller's base is the empty tree, so an unmounted
   * share can delete nothing): the guard still refuses a missing one.
   */
  readonly emptyServerOk?: boolean;
  /** Local files never fetched (a mount's placeholders): see ScanOptions.placeholder. */
  readonly placeholder?: ScanOptions['placeholder'];
  /** The time (default the system's). */
  readonly clock?: Clock;
  /**
   * The local directory's tree, already known (a mount composes it from base and the paths
   * that changed): the run's first local scan is this, not a walk. Only valid against the
   * base it was made from, and only while nothing else wrote the directory since.
   */
  readonly localTree?: Hash;
}

export async function runSyncDirs(
  store: Store,
  localDir: string,
  serverDir: string,
  opts: SyncDirsOptions = {},
): Promise<SyncSummary> {
  const local = resolve(localDir);
  const server = resolve(serverDir);
  const dry = opts.dryRun === true;
  // Only a first run (no base yet) may be given an empty server replica, and only by name;
  // or a caller whose base is empty by design (a volume mounted on an empty remote).
  await checkReplicas(
    local,
    server,
    opts.emptyServerOk === true
      ? {}
      : {
          firstRun: store.getRef(REF_BASE) === undefined,
          ...(opts.initial === undefined ? {} : { initial: opts.initial }),
        },
  );
  await checkBinding(store, { local, server }, !dry);
  if (!dry) await takeSyncLock(store.dir, 'tether sync-dirs');
  try {
    return await syncLocked(store, local, server, opts);
  } finally {
    if (!dry) await releaseSyncLock(store.dir);
  }
}

async function syncLocked(
  store: Store,
  local: string,
  server: string,
  opts: SyncDirsOptions,
): Promise<SyncSummary> {
  const dry = opts.dryRun === true;
  const windows = await mtimeWindows(store, local, server, dry);
  const scanCache = opts.scanCache !== false;
  const localSide = localDirSide(store, local, {
    mtimeWindowNs: windows.local,
    scanCache,
    ...(opts.placeholder === undefined ? {} : { placeholder: opts.placeholder }),
  });
  // A scan after the run wrote the directory (text merges) is a real one.
  let given = opts.localTree;
  const sides = {
    local: {
      ...localSide,
      scan: (req: ScanRequest): Promise<Hash> => {
        const id = given;
        given = undefined;
        return id !== undefined ? Promise.resolve(id) : localSide.scan(req);
      },
    },
    server: serverDirSide(store, server, {
      mtimeWindowNs: windows.server,
      scanCache,
      stableStat: await stableStatOf(server),
    }),
  };
  return runEngine({ store, sides, clock: opts.clock ?? systemClock }, opts);
}

const WINDOWS = Buffer.from('mtime-windows');
/** How long a probe of the mtime windows is trusted before a real run probes again. */
const WINDOWS_TRUSTED_MS = 3_600_000;

/**
 * Each replica's mtime granularity (sshfs keeps whole seconds): probed by a real run with a
 * file made and removed on each side, then remembered for an hour (a mount syncs often, and
 * the server's other users should not see a probe come and go on every pass) and for dry
 * runs, which write nothing.
 */
async function mtimeWindows(
  store: Store,
  local: string,
  server: string,
  dry: boolean,
): Promise<{ local: bigint; server: bigint }> {
  const db = store.db('sync');
  const v = asBytes(db.get(WINDOWS));
  const known =
    v !== undefined && v.length >= 16
      ? { local: v.readBigUInt64LE(0), server: v.readBigUInt64LE(8) }
      : undefined;
  const fresh = v?.length === 24 && Date.now() - Number(v.readBigUInt64LE(16)) < WINDOWS_TRUSTED_MS;
  if (known !== undefined && (dry || fresh)) return known;
  if (dry) return { local: MTIME_WINDOW_NS, server: MTIME_WINDOW_NS };
  const probe = TEMP_PREFIX + 'probe-' + String(process.pid);
  const l = await mtimeWindowOf(local, probe);
  const r = await mtimeWindowOf(server, probe);
  // A side that cannot be probed (read-only, say) keeps what was known, else is taken to be
  // fine-grained, and is probed again by the next run.
  const w = {
    local: l ?? known?.local ?? MTIME_WINDOW_NS,
    server: r ?? known?.server ?? MTIME_WINDOW_NS,
  };
  const out = Buffer.alloc(24);
  out.writeBigUInt64LE(w.local, 0);
  out.writeBigUInt64LE(w.server, 8);
  out.writeBigUInt64LE(l !== undefined && r !== undefined ? BigInt(Date.now()) : 0n, 16);
  await db.put(WINDOWS, out);
  return w;
}

// What the remote agent does for a volume (and serves beside sync-dirs and the Lister's
// calls, which live with the agent): every call that touches the remote. `probe` asks whether the
// server answers; `stamp` and `copyRange` fetch a file range by range into its placeholder in
// the local view (volume/partial-fetch.ts; progress per read), `copyWhole` a small file at
// once, `copyBatch` many small files at once (volume/batch-copy.ts); `owner` makes a chown there;
// `sync` runs the whole engine
// (scan → merge → apply) between the local view and the remote, with the store opened here
// (LMDB serves several processes; the daemon waits for the answer, cutting the sync if the
// server stops answering its probes, and never touches the remote itself); `firstScan` scans
// the remote into the store the same way for a volume's first mount (materialise.ts); and the
// Lister port's calls on the remote (lister.ts).
import { lchown } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { fsPath } from '../scan/fs-entry.js';
import { scanReplica } from '../scan/scan-replica.js';
import { BLOB_FILE_THRESHOLD, Store } from '../store/store.js';
import { isDenied, rootDenied } from '../sync/auth-trouble.js';
import { copyBatch, type BatchFile, type BatchResult } from './batch-copy.js';
import { copyRange, copyWhole, serverStamp } from './range-copy.js';
import { askRoot } from './remote-fault.js';
import type { ServerStamp } from './ranges.js';
import type { Hash } from '../tree/index.js';
import { syncVolume, type Composed, type VolumeSyncSummary } from './volume-sync.js';
import { LISTER_OPS } from '../agent/lister.js';
import { codeOf, type Operation } from '../agent/serve.js';
import { syncDirsOp } from '../agent/sync-dirs-op.js';

export interface StampArgs {
  readonly remote: string;
  readonly path: Path;
  /** The remote path copied (a placeholder renamed since stands for its origin's content). */
  readonly from?: Path;
}

export interface RangeArgs extends StampArgs {
  readonly local: string;
  readonly start: number;
  readonly end: number;
  readonly expect: ServerStamp;
}

export interface WholeArgs extends StampArgs {
  readonly local: string;
  /** Larger server files are not copied (they are fetched by ranges). */
  readonly max: number;
}

export interface BatchArgs {
  readonly remote: string;
  readonly local: string;
  readonly files: readonly BatchFile[];
  /**
   * The store each file's bytes are kept in too, as a blob (its id in the file's result), the
   * blobs durable before the answer; unset: none is.
   */
  readonly storeDir?: string;
}

export interface OwnerArgs extends StampArgs {
  /** -1 leaves that id as it is. */
  readonly uid: number;
  readonly gid: number;
}

export interface FirstScanArgs {
  readonly storeDir: string;
  readonly remote: string;
}

export interface SyncArgs {
  readonly storeDir: string;
  readonly local: string;
  readonly remote: string;
  readonly dryRun: boolean;
  /** The view's tree as the daemon composed it, if it did. */
  readonly composed?: Composed;
}

export interface ProbeArgs {
  readonly remote: string;
  /**
   * Ask the server itself too (statfs: no client cache answers it), not only what a network
   * filesystem may answer from its caches: after one file's failure, whether the server lives.
   */
  readonly fresh?: boolean;
  /**
   * false: the root's stat only, not its listing (a heartbeat beside a long run): one round
   * trip, however many entries the root has and however slow the link.
   */
  readonly list?: boolean;
}

/** The remote answers: its root is a directory that can be listed (see ProbeArgs). */
async function probe(args: unknown): Promise<{ entries?: number }> {
  const { remote, fresh, list } = args as ProbeArgs;
  try {
    const entries = await askRoot(remote, fresh === true, list !== false);
    return entries === undefined ? {} : { entries };
  } catch (err) {
    // It answers, but not to this user: authentication trouble, not an outage.
    throw isDenied(err) ? rootDenied(remote, err) : err;
  }
}

function stamp(args: unknown): Promise<ServerStamp> {
  const a = args as StampArgs;
  return serverStamp(fsPath(Buffer.from(a.remote), a.from ?? a.path));
}

async function copy(args: unknown, progress: (v?: unknown) => void): Promise<number> {
  const a = args as RangeArgs;
  return copyRange(
    fsPath(Buffer.from(a.remote), a.from ?? a.path),
    fsPath(Buffer.from(a.local), a.path),
    a.start,
    a.end,
    a.expect,
    (n) => {
      progress(n);
    },
    // The daemon is gone (killed): a later one may have moved on, so write nothing more.
    () => !process.connected,
  );
}

function whole(
  args: unknown,
  progress: (v?: unknown) => void,
): Promise<{ stamp: ServerStamp; copied: boolean }> {
  const a = args as WholeArgs;
  return copyWhole(
    fsPath(Buffer.from(a.remote), a.from ?? a.path),
    fsPath(Buffer.from(a.local), a.path),
    a.max,
    (n) => {
      progress(n);
    },
    () => !process.connected,
  );
}

/**
 * A copied file's bytes kept as a blob file of the store if they are large enough for one
 * (their id answered); a smaller file is left to the daemon, which stores it in LMDB with its
 * other writes: blobs put here would cost this process LMDB commits of its own, each synced,
 * beside the daemon's, more than reading a small file back and hashing it costs the daemon.
 */
async function keepLarge(store: Store, bytes: Buffer): Promise<Hash | undefined> {
  return bytes.length >= BLOB_FILE_THRESHOLD ? store.putBlob(bytes) : undefined;
}

/** How often, at most, a batch reports progress (its deadline restarts at each report). */
const BATCH_PROGRESS_MS = 200;

/**
 * Many small files copied whole by one request, each with its own result (and kept in the
 * store too where the request names one). Progress (a read made) is reported at most every
 * BATCH_PROGRESS_MS, the last one always: a batch of many files sends a few messages, not one
 * per read.
 */
async function batch(
  stores: OpenStores,
  args: unknown,
  progress: (v?: unknown) => void,
): Promise<BatchResult[]> {
  const a = args as BatchArgs;
  const store = a.storeDir === undefined ? undefined : await stores.at(a.storeDir);
  let last = 0;
  let trailing: NodeJS.Timeout | undefined;
  const report = (): void => {
    last = Date.now();
    progress();
  };
  const tick = (): void => {
    const wait = last + BATCH_PROGRESS_MS - Date.now();
    if (wait <= 0) report();
    else
      trailing ??= setTimeout(() => {
        trailing = undefined;
        report();
      }, wait);
  };
  try {
    const results = await copyBatch(
      Buffer.from(a.remote),
      Buffer.from(a.local),
      a.files,
      (err) => ({ code: codeOf(err), message: err instanceof Error ? err.message : String(err) }),
      {
        progress: tick,
        // The daemon is gone (killed): a later one may have moved on, so write nothing more.
        cancelled: () => !process.connected,
        ...(store === undefined ? {} : { keep: (bytes: Buffer) => keepLarge(store, bytes) }),
      },
    );
    if (store === undefined) return results;
    // The ids answered name blobs that are on disk; if they cannot be made so, none is
    // answered (the daemon stores those files itself, as it does any other fetch's).
    return await store.flush().then(
      () => results,
      () => results.map((r) => ('id' in r ? { stamp: r.stamp, copied: r.copied } : r)),
    );
  } finally {
    clearTimeout(trailing);
  }
}

/** A chown made on the remote (the mount asks the server first: remote-owner.ts). */
async function owner(args: unknown): Promise<null> {
  const a = args as OwnerArgs;
  await lchown(fsPath(Buffer.from(a.remote), a.path), a.uid, a.gid);
  return null;
}

/** The stores an agent opened, by directory, kept open until it ends. */
class OpenStores {
  private readonly byDir = new Map<string, Promise<Store>>();

  at(dir: string): Promise<Store> {
    let s = this.byDir.get(dir);
    if (s === undefined) {
      s = Store.open(dir);
      this.byDir.set(dir, s);
    }
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.byDir.values()) await (await s).close();
    this.byDir.clear();
  }
}

async function sync(
  stores: OpenStores,
  args: unknown,
  progress: (v?: unknown) => void,
): Promise<VolumeSyncSummary> {
  const a = args as SyncArgs;
  const store = await stores.at(a.storeDir);
  const dir = process.env['TETHER_PROFILE_SYNC'];
  if (dir !== undefined && dir !== '') {
    // A CPU profile of each sync, for finding where a reconnect's time goes.
    const { profiled } = await import('../agent/profile.js');
    return profiled(dir, () => syncOnce(store, a, progress));
  }
  return syncOnce(store, a, progress);
}

/** A volume's first scan of the server, by stamps, into the store: the tree's id. */
async function firstScan(stores: OpenStores, args: unknown): Promise<Hash> {
  const a = args as FirstScanArgs;
  const store = await stores.at(a.storeDir);
  const tree = await scanReplica(store, a.remote, { content: 'stamp' });
  // Written before the answer: the daemon reads the tree from the store next.
  await store.flush();
  return tree;
}

function syncOnce(
  store: Store,
  a: SyncArgs,
  progress: (v?: unknown) => void,
): Promise<VolumeSyncSummary> {
  return syncVolume(store, a.local, a.remote, {
    dryRun: a.dryRun,
    ...(a.composed === undefined ? {} : { composed: a.composed }),
    onPhase: (phase) => {
      progress(phase);
    },
  });
}

/** The agent's operations, the stores they open kept in `stores`. */
function operations(stores: OpenStores): Readonly<Record<string, Operation>> {
  return {
    probe,
    stamp,
    copyRange: copy,
    copyWhole: whole,
    copyBatch: (args, progress) => batch(stores, args, progress),
    owner,
    sync: (args, progress) => sync(stores, args, progress),
    firstScan: (args) => firstScan(stores, args),
    'sync-dirs': syncDirsOp,
    ...LISTER_OPS,
  };
}

/** Run as the agent (`tether __agent`) until the daemon goes. */
export async function runAgent(): Promise<void> {
  const { serveAgent } = await import('../agent/serve.js');
  const stores = new OpenStores();
  const dir = process.env['TETHER_PROFILE_AGENT'];
  if (dir !== undefined && dir !== '') {
    // A CPU profile of the agent's whole life (profile.ts), written as its daemon goes.
    const { profiled } = await import('../agent/profile.js');
    await profiled(dir, () => serveAgent(operations(stores)), 'agent');
  } else {
    await serveAgent(operations(stores));
  }
  await stores.close();
  // Whoever asked is gone (a command ended by Ctrl-C, a daemon killed): a call still running
  // is cut here, as by kill -9, which every operation survives (a sync's plan is kept).
  process.exit(0);
}

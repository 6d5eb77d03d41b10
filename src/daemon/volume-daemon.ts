// The daemon of one mounted volume (DESIGN decision 14): it owns the FUSE session and the
// store's write side, serves the control socket, and stops on "unmount" or SIGTERM, flushing
// first. One daemon per store: S/daemon.pid holds its pid (a stale one is taken over).
import { rm, unlink } from 'node:fs/promises';
import type { Server } from 'node:net';
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import { CheckedReads } from '../fuse/checked-reads.js';
import { createHandlers } from '../fuse/handlers.js';
import { mountHandlers, type VolumeMount } from '../fuse/mount.js';
import type { VolumeView } from '../fuse/view.js';
import { Store } from '../store/store.js';
import { takePidFile } from '../sync/lock.js';
import { TAKES, type Take } from '../sync/resolve.js';
import { fromText } from '../tree/index.js';
import { invalidateChanged } from '../view/changes.js';
import { LOCAL_IN_MOUNT } from '../view/hidden.js';
import { FOLLOW_MS } from '../view/live.js';
import { withVolumeViews } from './volume-hook.js';
import { answerLocalChanges, localFollower } from './local-follow.js';
import { LocalJournal } from '../volume/local-journal.js';
import { keepLimits } from '../volume/cache-limits.js';
import { ChangedPaths } from '../volume/changed-paths.js';
import { Culler } from '../volume/culler.js';
import { gcInDaemon } from '../volume/daemon-gc.js';
import { serveControl, type Request } from '../volume/control.js';
import { mountAt } from '../sync/mounts.js';
import { Notifier, NOTIFY_ENV } from './notify.js';
import { Services } from '../volume/services.js';
import { RemoteIo } from '../volume/remote-io.js';
import { AgentCallError } from '../agent/client.js';
import { atticOf, FSNAME_PREFIX, localDirOf, pidFileOf } from '../volume/layout.js';
import { DEFAULT_TIMES, Volume, type VolumeTimes } from '../volume/volume.js';
import { VolumeSnapshots } from '../volume/volume-snapshots.js';
import { MEANING } from '../volume/why.js';
import { linkPlaceholder, movePlaceholders } from '../volume/placeholder-moves.js';
import { PAUSE_MS, PreCompose } from '../volume/pre-compose.js';
import { composeForSync } from '../volume/local-tree.js';
import { ownerOnServer } from '../volume/remote-owner.js';
import type { SyncSummary } from '../sync/engine/engine.js';
import { msFromEnv } from '../agent/deadlines.js';

export interface DaemonOptions {
  readonly storeDir: string;
  readonly remote: string;
  readonly mountpoint: string;
  readonly allowOther: boolean;
  /** Cache limits given to this mount (bytes); each replaces the volume's stored one. */
  readonly cacheSize?: number;
  readonly pinCacheSize?: number;
  /**
   * The mount command found the server silent (its root unanswered within the metadata
   * deadline). The daemon asks the server itself before it mounts, and where the server does
   * not answer that either, the volume starts offline (offline:failure, retried by the
   * reconnector) instead of in its stored mode; where it answers, the stored mode stands.
   */
  readonly serverSilent?: boolean;
  readonly log: (line: string) => void;
}

function takeStore(storeDir: string): Promise<void> {
  const path = pidFileOf(storeDir);
  return takePidFile(
    path,
    (pid) =>
      new TetherError(
        'ELOCKED',
        `a tether daemon (pid ${pid}) already serves the store ${storeDir}: unmount its volume first ("tether unmount MOUNTPOINT")`,
        { pid },
      ),
    () => new TetherError('ELOCKED', `cannot take ${path}; run the mount again`),
  );
}

/**
 * The volume's timers, from the environment where set (TETHER_PULL_MS, TETHER_FLUSH_MS): a
 * slower pull for a costly remote, and deterministic tests.
 */
function timesFromEnv(): VolumeTimes {
  return {
    ...DEFAULT_TIMES,
    pullEveryMs: msFromEnv('TETHER_PULL_MS', DEFAULT_TIMES.pullEveryMs),
    flushDelayMs: msFromEnv('TETHER_FLUSH_MS', DEFAULT_TIMES.flushDelayMs),
  };
}

/** TETHER_PRECOMPOSE_MS: the pause in offline writes before the background compose. */
function preComposePauseMs(): number {
  return msFromEnv('TETHER_PRECOMPOSE_MS', PAUSE_MS);
}

/** The view the handlers get: the volume's local directory and its hooks. */
function viewOf(v: Volume, changed: ChangedPaths, culler: Culler): VolumeView {
  const noted = (path: Path): void => {
    culler.noted(path).catch(() => undefined); // counted by the next walk instead
  };
  return {
    root: v.local,
    present: async (path, op) => {
      await culler.used(path);
      const was = v.placeholders.isNow(path);
      await v.fetch(path, op);
      if (was) changed.note(path);
    },
    room: (path, op) => culler.room(path, op),
    roomNow: () => culler.hasRoom(),
    presentToRead: async (path, op) => {
      await culler.used(path);
      const was = v.placeholders.isNow(path);
      const partial = await v.fetchToRead(path, op);
      if (was && partial === undefined) changed.note(path);
      return partial;
    },
    move: (from, to, op) => movePlaceholders(v.placeholders, from, to, op),
    link: (from, to, op) => linkPlaceholder(v.placeholders, from, to, op),
    forget: (path) => v.forget(path),
    emptied: (path) => v.emptied(path),
    owner: (path, uid, gid) => ownerOnServer(v, path, uid, gid),
    ownersLocal: () => v.mode !== 'online',
    writing: (path) => {
      changed.note(path);
    },
    changed: (path) => {
      changed.note(path);
      noted(path);
      v.changed();
    },
    flush: () => v.flushCovering(),
    stateOf: (path) => v.stateOf(path),
  };
}

/** Control requests that store or free objects behind the cache's running total. */
const STORE_CHANGING: ReadonlySet<string> = new Set([
  'snapshot-take',
  'snapshot-rm',
  'local-tree',
  'gc',
]);

/** A first scan the server did not answer, said as what to do. */
function firstScanFailed(err: unknown, remote: string, metaMs: number): unknown {
  if (!(err instanceof AgentCallError) || !err.transport) return err;
  return new TetherError(
    'EIO',
    `the server did not answer within ${metaMs / 1000} s during the first scan of ${remote}: nothing was mounted; check that the server and its share answer (ls ${remote}), then run "tether mount" again`,
    { remote, code: err.remoteCode, cause: err.message },
  );
}

/** Control requests that need not see the mount's requests before them. */
const UNORDERED = new Set(['ping', 'unmount', 'events']);

/** Run until unmounted; resolves once everything is flushed, unmounted and closed. */
export async function runDaemon(o: DaemonOptions): Promise<void> {
  // The kernel applied the caller's umask to every mode it hands over.
  process.umask(0);
  const store = await Store.openOrCreate(o.storeDir);
  let pidTaken = false;
  let server: Server | undefined;
  let mounted: VolumeMount | undefined;
  let follow: NodeJS.Timeout | undefined;
  let followViews: (() => void) | undefined;
  let volume: Volume | undefined;
  let changed: ChangedPaths | undefined;
  let services: Services | undefined;
  let io: RemoteIo | undefined;
  let culler: Culler | undefined;
  let pre: PreCompose | undefined;
  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      o.log('stopping');
      clearInterval(follow);
      pre?.stop();
      await volume?.close().catch((err: unknown) => {
        o.log(`final flush failed: ${(err as Error).message}`);
      });
      await culler?.close();
      await services?.close();
      await mounted?.unmount().catch((err: unknown) => {
        o.log(`unmount: ${(err as Error).message}`);
      });
      // Only once nothing can write the view any more is the changed-path list complete.
      const left = mountAt(o.mountpoint);
      if (mounted !== undefined && left?.source !== FSNAME_PREFIX + o.storeDir) {
        await changed?.markClean().catch((err: unknown) => {
          o.log(`changed paths: ${(err as Error).message}`);
        });
      }
      server?.close();
      await store.close();
      if (pidTaken) await unlink(pidFileOf(o.storeDir)).catch(() => undefined);
      finished();
    })());

  try {
    await takeStore(o.storeDir);
    pidTaken = true;
    // Every call on the remote is the agent's, the first mount's scan of it too.
    const rio = (io = new RemoteIo(
      o.storeDir,
      o.remote,
      localDirOf(o.storeDir),
      undefined,
      undefined,
      o.log,
    ));
    rio.start();
    // Asked beside the volume's opening: its answer is awaited before the mount.
    const firstLook =
      o.serverSilent === true
        ? rio.probe(true).then(
            () => undefined,
            (err: unknown) => (err as Error).message,
          )
        : Promise.resolve(undefined);
    volume = await Volume.open(store, o.storeDir, o.remote, timesFromEnv(), o.log, () =>
      rio.firstScan().catch((err: unknown) => {
        throw firstScanFailed(err, o.remote, rio.deadlines.metaMs);
      }),
    );
    const v = volume;
    const c = (changed = await ChangedPaths.open(store.db('changed-paths')));
    v.onLocalWrite = (paths) => {
      for (const p of paths) c.note(p);
    };
    v.composeLocal = () => composeForSync(v, c);
    const p = (pre = new PreCompose(v, c, o.log, preComposePauseMs()));
    const journal = new LocalJournal();
    c.onNote = (path) => {
      p.noted();
      journal.add(path);
    };
    v.onViewChanged((path) => {
      journal.add(path);
    });
    const snaps = new VolumeSnapshots(v, c, o.mountpoint);
    const sv = (services = new Services(v, store, rio, o.log));
    if (process.env[NOTIFY_ENV] === '1') {
      const notifier = Notifier.start(o.mountpoint, o.log);
      if (notifier !== undefined)
        sv.events.onAppend = (e) => {
          notifier.event(e);
        };
    }
    const silent = await firstLook;
    if (silent !== undefined) {
      await v.goOffline(
        `the server did not answer at mount (${silent}); the volume starts offline`,
      );
    }
    const limits = await keepLimits(store.db('volume'), {
      ...(o.cacheSize === undefined ? {} : { cacheSize: o.cacheSize }),
      ...(o.pinCacheSize === undefined ? {} : { pinCacheSize: o.pinCacheSize }),
    });
    const cu = (culler = new Culler(
      v,
      c,
      sv.pins,
      limits,
      sv.events.append.bind(sv.events),
      o.log,
    ));
    v.beforeFetch = (path, need, op) => cu.roomToFetch(path, need, op);
    if (limits.cacheSize !== undefined) v.wholeFits = (path, need) => cu.wholeFits(path, need);
    v.rangeBudget = () => cu.rangeBudget();
    v.onRanges = (path) => {
      cu.noted(path).catch(() => undefined); // counted by the next walk instead
    };
    v.onSynced = () => {
      cu.changedOutside();
    };
    v.onFetched = (path) => {
      cu.fetched(path).catch((err: unknown) => {
        o.log(`cache: ${(err as Error).message}`);
      });
    };
    server = await serveControl(o.storeDir, async (req) => {
      // What a program did in the mount before it ran this command is seen by it: a file
      // closed a moment ago has its release noted first (the kernel sends it after the close
      // returns, on another queue than this socket's).
      if (!UNORDERED.has(req.op)) await mounted?.settled();
      const taken = await snaps.control(req);
      // A snapshot taken or removed (by this daemon, or in its store by another process) shows
      // in `.tether/snapshots` once this is answered.
      if (taken !== undefined) followViews?.();
      const r =
        answerLocalChanges(journal, req) ?? taken ?? (await control(v, req, o, stop, sv, cu));
      // These store or free objects: the cache's total is counted again at its next look.
      if (STORE_CHANGING.has(req.op)) cu.changedOutside();
      return r;
    });
    // An attic an older tether kept unlinked open files in (FUSE's high-level API renamed them
    // away): what it held was closed when that mount went.
    await rm(atticOf(o.storeDir), { recursive: true, force: true });
    // `.tether/` (read-only views of the volume) is served beside it: volume-hook.ts.
    const checked = new CheckedReads();
    const views = withVolumeViews(
      createHandlers(viewOf(v, c, cu), o.log, checked),
      v,
      o.log,
      (under, was, now) => {
        if (mounted === undefined) return;
        invalidateChanged(mounted, was, now, under).catch((err: unknown) => {
          o.log(`invalidating ${under}: ${(err as Error).message}`);
        });
      },
      (path) => mounted?.invalidate(path),
    );
    followViews = views.follow;
    const m = await mountHandlers(o.mountpoint, views.ops, {
      root: v.local,
      fsname: FSNAME_PREFIX + o.storeDir,
      allowOther: o.allowOther,
      log: o.log,
      // The views in `.tether/` follow the store and the view, and the kernel keeps them: the
      // snapshots' names and the variants are followed and invalidated (views.follow; the local
      // variant's changed paths from the journal, local-follow.ts).
      checked,
    });
    mounted = m;
    // Online, a chown is the server's first: the session thread stops setting owners before
    // any request is answered in the new mode.
    v.onMode = () => {
      m.asked();
    };
    m.asked();
    const local = localFollower(store, () => m, LOCAL_IN_MOUNT);
    local.apply(journal.since(undefined, 0));
    follow = setInterval(() => {
      views.follow();
      local.apply(journal.since(local.cursor.epoch, local.cursor.seq));
    }, FOLLOW_MS);
    v.onViewChanged((path) => {
      m.invalidate(path);
    });
    v.start();
    sv.start();
    cu.start();
    o.log(`mounted ${o.remote} at ${o.mountpoint} (${v.mode})`);
  } catch (err) {
    server?.close();
    io?.close();
    await store.close();
    if (pidTaken) await unlink(pidFileOf(o.storeDir)).catch(() => undefined);
    throw err;
  }
  const onSignal = (): void => {
    void stop();
  };
  // A bug in one request must not take the mount down with it: logged, and the daemon goes on.
  process.on('unhandledRejection', (err) => {
    o.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  });
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await done;
}

async function control(
  v: Volume,
  req: Request,
  o: DaemonOptions,
  stop: () => Promise<void>,
  services: Services,
  culler: Culler,
): Promise<Record<string, unknown>> {
  const pathOf = (): Path => (typeof req['path'] === 'string' ? fromText(req['path']) : '');
  switch (req.op) {
    case 'status':
      return {
        status: {
          ...(await v.status()),
          modeDetail: services.modeText(),
          reconnect: services.reconnect.mode,
          cacheLimit: await culler.status(),
        },
        mountpoint: o.mountpoint,
        pid: process.pid,
      };
    case 'gc':
      return { gc: await gcInDaemon(v, req['dryRun'] === true, o.log) };
    case 'ping':
      return { mode: v.mode };
    case 'offline':
      await v.goOffline('asked by "tether offline"', 'manual');
      return { mode: v.mode };
    case 'online': {
      const s = await v.goOnline();
      return { mode: v.mode, ...syncReply(s) };
    }
    case 'sync':
      return syncReply(await v.sync(req['dryRun'] === true));
    case 'why': {
      const r = v.why.get(pathOf());
      return r === undefined ? {} : { why: { ...r, meaning: MEANING[r.name] } };
    }
    case 'resolve': {
      const take = req['take'];
      if (typeof take !== 'string' || !TAKES.includes(take as Take)) {
        throw new TetherError('EUSAGE', `--take must be one of ${TAKES.join(', ')}`);
      }
      const resolution = await v.resolve(
        typeof req['path'] === 'string' ? req['path'] : '',
        take as Take,
      );
      return { resolution, open: v.conflicts.list().length };
    }
    case 'unmount':
      // Answer first; the daemon then flushes, unmounts and exits.
      setImmediate(() => void stop());
      return {};
    default: {
      const r = await services.control(req);
      if (r === undefined) throw new TetherError('EUSAGE', `unknown control request "${req.op}"`);
      return r;
    }
  }
}

/** What a sync's caller is told: its counts, plan and conflicts, and what failed or was skipped. */
function syncReply(s: SyncSummary): Record<string, unknown> {
  return {
    applied: s.applied,
    plan: s.plan,
    conflicts: s.conflicts,
    open: s.open,
    failures: s.failures.map((f) => ({ path: f.action.path, reason: f.reason })),
    problems: s.problems.map((p) => ({ path: p.path, reason: p.reason })),
    notes: s.notes.map((n) => ({ path: n.action.path, note: n.note })),
  };
}

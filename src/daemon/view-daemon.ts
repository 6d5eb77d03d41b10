// The daemon of one read-only view (a snapshot, or a side of a volume): it opens the store
// read-only (the volume's daemon stays its only writer), serves the mount and a control
// socket, and stops on "unmount" or SIGTERM. A variant view follows the volume: its root is
// rebuilt when the volume's trees or conflicts change (live.ts), and the kernel told what of
// it changed (changes.ts).
import { existsSync } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { TetherError } from '../errors.js';
import { mountHandlers, type VolumeMount } from '../fuse/mount.js';
import { Store } from '../store/store.js';
import { fromText } from '../tree/index.js';
import { serveControl, type Request } from '../volume/control.js';
import { localDirOf, pidFileOf } from '../volume/layout.js';
import { Placeholders } from '../volume/placeholders.js';
import { MEANING, WhyLog } from '../volume/why.js';
import { createViewHandlers } from '../view/handlers.js';
import { VIEW_FSNAME_PREFIX } from '../view/layout.js';
import { invalidateChanged } from '../view/changes.js';
import { FOLLOW_MS, LiveRoot } from '../view/live.js';
import { askLocalChanges, localFollower } from './local-follow.js';
import type { ViewSource } from '../view/node.js';
import {
  fingerprintOf,
  snapshotSource,
  variantSource,
  type Variant,
  type VolumeSide,
} from '../view/roots.js';

export type ViewOf = { readonly snapshot: string } | { readonly variant: Variant };

export interface ViewDaemonOptions {
  readonly storeDir: string;
  readonly viewDir: string;
  readonly mountpoint: string;
  readonly of: ViewOf;
  readonly allowOther: boolean;
  readonly log: (line: string) => void;
}

/**
 * The view's root: fixed for a snapshot, following the volume for a variant (`changed` is
 * told of each new root, and the one it replaces).
 */
export function rootOf(
  store: Store,
  storeDir: string,
  of: ViewOf,
  changed?: (was: ViewSource, now: ViewSource) => void,
): () => ViewSource {
  if ('snapshot' in of) {
    const s = snapshotSource(store, of.snapshot);
    return () => s;
  }
  const local = localDirOf(storeDir);
  const side: VolumeSide = existsSync(local)
    ? {
        store,
        local,
        placeholder: (() => {
          const p = new Placeholders(store.db('volume'), Buffer.from(local));
          return (path) => p.isNow(path);
        })(),
      }
    : { store };
  // A store that cannot show this side fails here, before anything is mounted.
  variantSource(side, of.variant);
  const live = new LiveRoot(
    () => variantSource(side, of.variant),
    () => fingerprintOf(store, of.variant),
    FOLLOW_MS,
    Date.now,
    changed,
  );
  return () => live.get();
}

export const describeView = (of: ViewOf): string =>
  'snapshot' in of ? `snapshot "${of.snapshot}"` : `${of.variant} variant`;

export async function runViewDaemon(o: ViewDaemonOptions): Promise<void> {
  const store = await Store.open(o.storeDir, { readOnly: true });
  let server: Server | undefined;
  let mounted: VolumeMount | undefined;
  let stopping: Promise<void> | undefined;
  let follow: NodeJS.Timeout | undefined;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const why = new WhyLog();
  const cleanup = async (): Promise<void> => {
    server?.close();
    await store.close();
    await unlink(pidFileOf(o.viewDir)).catch(() => undefined);
  };
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      o.log('stopping');
      clearInterval(follow);
      await mounted?.unmount().catch((err: unknown) => {
        o.log(`unmount: ${(err as Error).message}`);
      });
      await cleanup();
      finished();
    })());

  try {
    const root = rootOf(store, o.storeDir, o.of, (was, now) => {
      const m = mounted;
      if (m === undefined) return;
      invalidateChanged(m, was, now).then(
        (n) => {
          o.log(`the volume changed: ${String(n)} cached paths invalidated`);
        },
        (err: unknown) => {
          o.log(`invalidating after a change: ${(err as Error).message}`);
        },
      );
    });
    await mkdir(o.viewDir, { recursive: true, mode: 0o700 });
    await writeFile(pidFileOf(o.viewDir), String(process.pid));
    server = await serveControl(o.viewDir, (req) => control(req, o, why, stop));
    const ops = createViewHandlers(store, root, {
      log: o.log,
      noData: (path, op, message) => {
        why.note(path, 'EDISCONDATA', op, `${describeView(o.of)}: ${message}`);
      },
    });
    // The kernel keeps what it learnt (DESIGN decision 18's long lifetimes): a snapshot never
    // changes; the server and base variants change only with the store's refs and conflicts,
    // which this daemon checks every FOLLOW_MS, invalidating exactly what differs between the
    // old root and the new (changes.ts). The local variant is the volume's local directory,
    // written through the volume's mount: every FOLLOW_MS the volume's daemon is asked which
    // of its paths changed since, and those are invalidated (local-follow.ts). The cursor is
    // set before the mount, while the kernel holds nothing.
    const local =
      'variant' in o.of && o.of.variant === 'local'
        ? localFollower(store, () => mounted, '')
        : undefined;
    if (local !== undefined) await askLocalChanges(o.storeDir, local);
    mounted = await mountHandlers(o.mountpoint, ops, {
      fsname: VIEW_FSNAME_PREFIX + o.viewDir,
      allowOther: o.allowOther,
      readOnly: true,
      log: o.log,
    });
    if ('variant' in o.of) {
      let asking = false;
      follow = setInterval(() => {
        root();
        if (local === undefined || asking) return;
        asking = true;
        void askLocalChanges(o.storeDir, local).finally(() => (asking = false));
      }, FOLLOW_MS);
    }
    o.log(`mounted the ${describeView(o.of)} of ${o.storeDir} at ${o.mountpoint}`);
  } catch (err) {
    await cleanup();
    throw err;
  }
  process.on('unhandledRejection', (err) => {
    o.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  });
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  await done;
}

function control(
  req: Request,
  o: ViewDaemonOptions,
  why: WhyLog,
  stop: () => Promise<void>,
): Promise<Record<string, unknown>> {
  switch (req.op) {
    case 'ping':
      return Promise.resolve({ view: describeView(o.of) });
    case 'status':
      return Promise.resolve({
        view: { of: o.of, store: o.storeDir, mountpoint: o.mountpoint, pid: process.pid },
      });
    case 'why': {
      const r = why.get(typeof req['path'] === 'string' ? fromText(req['path']) : '');
      return Promise.resolve(r === undefined ? {} : { why: { ...r, meaning: MEANING[r.name] } });
    }
    case 'unmount':
      setImmediate(() => void stop());
      return Promise.resolve({});
    default:
      return Promise.reject(new TetherError('EUSAGE', `unknown control request "${req.op}"`));
  }
}

// `tether gc`: free every object of a store that no ref or record reaches.
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { Command, Option } from 'clipanion';
import { TetherError } from '../src/errors.js';
import { gc, type GcReport } from '../src/store/gc.js';
import { processAlive } from '../src/store/store.js';
import { releaseSyncLock, takeSyncLock } from '../src/sync/lock.js';
import { request } from '../src/volume/control.js';
import { pidFileOf, socketOf } from '../src/volume/layout.js';
import { resolveStore, storeOption, TetherCommand, withStore } from './base.js';
import { formatBytes } from './format.js';

/** True when a volume daemon owns the store: its pid is alive or its socket answers. */
export async function daemonHolds(dir: string): Promise<boolean> {
  const pid = Number(await readFile(pidFileOf(dir), 'utf8').catch(() => '0'));
  if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) return true;
  return new Promise((resolve) => {
    const sock = createConnection(socketOf(dir));
    const done = (v: boolean): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => {
      done(true); // a socket that accepts but hangs: someone is there
    });
    sock.on('connect', () => {
      done(true);
    });
    sock.on('error', () => {
      done(false);
    });
  });
}

export class GcCommand extends TetherCommand {
  static override paths = [['gc']];
  static override usage = Command.Usage({
    description: 'free the objects of a store that nothing refers to',
    details: `
      Frees every tree and blob that no snapshot, sync state, conflict record, pending plan
      or volume record reaches, and reports how many objects and bytes it freed. Scan caches
      are dropped (the next scans rebuild them). It takes the store's sync lock; on a store
      whose volume is mounted it asks the volume's daemon to run it, between its syncs, with
      what the daemon holds in memory kept. Safe to interrupt at any point.
    `,
    examples: [
      ['See what would be freed', '$0 gc --dry-run --store ./store'],
      ['Free it', '$0 gc --store ./store'],
    ],
  });

  dryRun = Option.Boolean('--dry-run', false, { description: 'Report, free nothing' });
  asJson = Option.Boolean('--json', false, { description: 'Print the report as JSON' });
  store = storeOption();

  async execute(): Promise<number> {
    const dir = resolveStore(this.store);
    if (await daemonHolds(dir)) {
      const r = await request(dir, { op: 'gc', dryRun: this.dryRun }, 10 * 60_000).catch(
        (err: unknown) => {
          throw new TetherError(
            'ELOCKED',
            `a volume daemon owns the store ${dir} but could not run gc: ` + (err as Error).message,
            { dir },
          );
        },
      );
      this.printGc(r['gc'] as GcReport);
      return 0;
    }
    return withStore(dir, async (store) => {
      if (!this.dryRun) await takeSyncLock(store.dir, 'tether gc');
      try {
        this.printGc(await gc(store, { dryRun: this.dryRun }));
        return 0;
      } finally {
        if (!this.dryRun) await releaseSyncLock(store.dir);
      }
    });
  }

  private printGc(r: GcReport): void {
    if (this.asJson) this.json(r);
    else {
      const verb = r.dryRun ? 'would free' : 'freed';
      this.out(
        `${verb} ${r.freed} of ${r.objects} objects (${formatBytes(r.freedBytes)}); ` +
          `${r.reachable} reachable`,
      );
    }
  }
}

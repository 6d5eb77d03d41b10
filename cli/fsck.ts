// `tether fsck`: verify every object of a store against its id; --repair quarantines.
import { Command, Option } from 'clipanion';
import { fsck } from '../src/store/fsck.js';
import { isTetherError, TetherError } from '../src/errors.js';
import { repairLmdbHeader } from '../src/store/lmdb-header.js';
import { salvageLmdb } from '../src/store/lmdb-salvage.js';
import { checkLmdbTrees } from '../src/store/lmdb-trees.js';
import { releaseSyncLock, takeSyncLock } from '../src/sync/lock.js';
import { SYNC_RECORD_CHECKS } from '../src/sync/record-checks.js';
import { resolveStore, storeOption, TetherCommand, withStore } from './base.js';
import { formatBytes } from './format.js';
import { daemonHolds } from './gc.js';
import { progress } from './progress.js';

export class FsckCommand extends TetherCommand {
  static override paths = [['fsck']];
  static override usage = Command.Usage({
    description: 'verify every object in a store against its hash',
    details: `
      Checks every tree and blob against its id, that every tree decodes, that everything
      reachable from snapshots and sync states is stored, and every other record (plans,
      conflicts, settings, snapshot labels, scan caches) against its checksum and shape. Exit status 0 when the store is
      sound, 1 when problems were found. Before the database is opened, every page of its
      B-trees is checked (a damaged page is reported, naming the database and the page). With
      --repair, corrupt objects and damaged records are moved to the store's quarantine/
      directory (never deleted; the report names the snapshots and sync states that reached
      them), a damaged database meta page is rebuilt from the other one, a database with a
      damaged page is rebuilt from every record that can still be read (the damaged one is
      kept in quarantine/, and the report says how many records of each database were lost),
      and scan caches are dropped (the next scans rebuild them).
    `,
    examples: [
      ['Verify', '$0 fsck --store ./store'],
      ['Quarantine what is corrupt', '$0 fsck --store ./store --repair'],
    ],
  });

  repair = Option.Boolean('--repair', false, { description: 'Move corrupt objects to quarantine' });
  asJson = Option.Boolean('--json', false, { description: 'Print the report as JSON' });
  store = storeOption();
  /** What --repair did to the database file before opening it (said first, or in the JSON). */
  private readonly mended: string[] = [];

  async execute(): Promise<number> {
    const dir = resolveStore(this.store);
    // A damaged meta page or B-tree page keeps the store from opening at all: mended first,
    // if it can be.
    if (this.repair) await this.mendDatabase(dir);
    else checkLmdbTrees(dir, 'full');
    return withStore(dir, async (store) => {
      const bar = progress('fsck', 'objects');
      const r = await fsck(store, {
        repair: this.repair,
        recordChecks: SYNC_RECORD_CHECKS,
        onProgress: (n) => {
          bar.update(n);
        },
      }).finally(() => {
        bar.stop();
      });
      if (this.asJson) this.json(this.mended.length > 0 ? { ...r, mended: this.mended } : r);
      else {
        for (const p of r.problems) {
          const refs = p.refs.length > 0 ? ` (reached from ${p.refs.join(', ')})` : '';
          const q = p.quarantined === undefined ? '' : `; moved to ${p.quarantined}`;
          this.out(`${p.kind}: ${p.object}: ${p.detail}${refs}${q}`);
        }
        const verdict =
          r.problems.length === 0
            ? 'ok'
            : `${r.problems.length} problems` +
              (r.repaired
                ? ', what was damaged is quarantined'
                : '; run with --repair to quarantine what is damaged');
        this.out(
          `${r.trees} trees, ${r.blobs} blobs, ${r.refs} refs, ${r.records} records checked: ${verdict}`,
        );
        if (r.unreferenced.count > 0) {
          const { count, bytes } = r.unreferenced;
          this.out(
            `unreferenced objects: ${count} (${formatBytes(bytes)}); "tether gc" frees them`,
          );
        }
      }
      return r.problems.length === 0 ? 0 : 1;
    });
  }

  private async mendDatabase(dir: string): Promise<void> {
    const mended = repairLmdbHeader(dir);
    if (mended !== undefined) this.said(mended);
    try {
      checkLmdbTrees(dir, 'full');
      return;
    } catch (err) {
      if (!isTetherError(err, 'EDAMAGED')) throw err;
      if (await daemonHolds(dir)) {
        throw new TetherError(
          'ELOCKED',
          `the store's database is damaged (${String(err.data['what'])}) and a volume daemon ` +
            `holds the store ${dir}: unmount the volume, then run tether fsck --repair again`,
          { dir },
        );
      }
    }
    await takeSyncLock(dir, 'tether fsck --repair');
    try {
      const salvage = await salvageLmdb(dir);
      for (const line of salvage?.lines ?? []) this.said(line);
    } catch (err) {
      if (err instanceof TetherError) throw err;
      throw new TetherError(
        'EDAMAGED',
        `the store's database in ${dir} could not be rebuilt (${(err as Error).message}); ` +
          'restore the store directory from a backup',
        { dir },
        { cause: err },
      );
    } finally {
      await releaseSyncLock(dir);
    }
  }

  private said(repair: string): void {
    this.mended.push(repair);
    if (!this.asJson) this.out(`repaired: ${repair}`);
  }
}

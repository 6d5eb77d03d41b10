// `tether sync-dirs A B`: two-replica synchronisation of plain directories (A local, B server).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'clipanion';
import type { Action, Conflict } from '../src/merge/plan.js';
import { checkReplicas } from '../src/sync/guard.js';
import { mayHang } from '../src/sync/network-fs.js';
import { runSyncDirs, type SyncPhase, type SyncSummary } from '../src/sync/sync-dirs.js';
import { display } from '../src/tree/index.js';
import { EXIT, resolveStore, storeOption, TetherCommand, withStore } from './base.js';

function actionLine(a: Action): string {
  const dir = a.side === 'server' ? 'server <- local ' : 'local  <- server';
  switch (a.op) {
    case 'put':
      return `${dir}  put      ${display(a.path)}`;
    case 'mkdir':
      return `${dir}  mkdir    ${display(a.path)}`;
    case 'setmeta':
      return `${dir}  setmeta  ${display(a.path)} (${a.fields.join(', ')})`;
    case 'delete':
      return `${dir}  delete   ${display(a.path)}`;
    case 'rename':
      return `${dir}  rename   ${display(a.path)} -> ${display(a.to)}`;
    case 'variant':
      return `${a.side.padEnd(6)} keep     ${display(a.path)} as ${display(a.variantPath)}`;
  }
}

function conflictLine(c: Conflict): string {
  const v = c.variantPath === undefined ? '' : ` (local version kept as ${display(c.variantPath)})`;
  return `${c.kind}: ${display(c.path)}${v}`;
}

const PHASES: Record<SyncPhase, string> = {
  resume: 'finishing the interrupted run',
  scan: 'scanning both replicas',
  merge: 'merging',
  apply: 'applying',
  commit: 'advancing base',
};

export class SyncDirsCommand extends TetherCommand {
  static override paths = [['sync-dirs']];
  static override usage = Command.Usage({
    category: 'Sync',
    description: 'synchronise two directories with a three-way merge',
    details: `
      A is the local replica, B the server replica. The first run records the base and never
      deletes anything; it refuses two trees that differ in more than a tenth of their paths
      unless --initial is given. Later runs scan both sides, merge three ways (base, A, B) and
      apply the plan. Conflicts keep B's version at the path and A's as a sibling variant file
      in A (name.conflict-local-TIME-HASH.ext); see \`tether conflicts\`. Text files edited on both
      sides in separate places are merged automatically (--no-automerge turns this off for the
      store). A run that is killed is finished by the next one. A missing or empty B (an
      unmounted share looks empty) stops the run with nothing changed, and so does a B that
      refuses this user at its root or in most of its directories. A B that is not on a local
      disk (a network share) is synced by a separate process: when B stops answering for 2 s
      the run ends at once saying so, and the next run finishes what it had planned.
      Exit status: 0 in sync, 3 when conflicts wait for a decision, 1 on error, 2 on usage error.
    `,
    examples: [
      [
        'Sync a laptop copy with a share',
        '$0 sync-dirs ~/work /mnt/share/work --store ~/.tether-work',
      ],
      [
        'Show the plan only',
        '$0 sync-dirs ~/work /mnt/share/work --store ~/.tether-work --dry-run',
      ],
    ],
  });

  local = Option.String({ name: 'A' });
  server = Option.String({ name: 'B' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'Print the plan; change nothing' });
  asJson = Option.Boolean('--json', false, { description: 'Print the plan or summary as JSON' });
  initial = Option.Boolean('--initial', false, {
    description:
      'Allow a first run between very different trees, or into an empty server directory',
  });
  automerge = Option.Boolean('--automerge', {
    description:
      'Merge non-overlapping text edits (default on; --no-automerge turns it off for the store)',
  });
  strict = Option.Boolean('--strict', false, {
    description: 'Stop the run at a path that cannot be read (default: skip it, report it, exit 1)',
  });
  store = storeOption();

  async execute(): Promise<number> {
    const onPhase = (p: SyncPhase): void => {
      if (process.stderr.isTTY) this.context.stderr.write(`${PHASES[p]}…\n`);
    };
    const storeDir = resolveStore(this.store);
    const opts = {
      dryRun: this.dryRun,
      initial: this.initial,
      strict: this.strict,
      ...(this.automerge === undefined ? {} : { automerge: this.automerge }),
    };
    // A server directory that may hang (a network share) is synced by the remote agent, with
    // deadlines; one on a local disk here, at full speed (src/sync/network-fs.ts).
    if (mayHang(this.server)) {
      const { syncDirsByAgent } = await import('../src/agent/sync-dirs-agent.js');
      const args = { storeDir, local: resolve(this.local), server: resolve(this.server), ...opts };
      return this.print(await syncDirsByAgent(args, onPhase));
    }
    // Before the store is made: a missing or empty replica must leave no trace. Without a
    // store this is a first run; with one, the run judges an empty server replica itself.
    await checkReplicas(this.local, this.server, {
      initial: this.initial,
      ...(existsSync(storeDir) ? {} : { firstRun: true }),
    });
    return withStore(
      storeDir,
      async (store) =>
        this.print(await runSyncDirs(store, this.local, this.server, { ...opts, onPhase })),
      true,
    );
  }

  private print(s: SyncSummary): number {
    if (this.asJson) {
      this.json({
        dryRun: this.dryRun,
        first: s.first,
        resumed: s.resumed,
        actions: s.plan.actions,
        conflicts: s.conflicts,
        notices: s.notices,
        autoMerged: s.autoMerged.map(display),
        applied: s.applied,
        failures: s.failures.map((f) => ({ path: display(f.action.path), reason: f.reason })),
        notes: s.notes.map((n) => ({ path: display(n.action.path), note: n.note })),
        problems: s.problems.map((p) => ({
          path: display(p.path),
          side: p.side,
          reason: p.reason,
        })),
        open: s.open,
      });
    } else {
      if (s.resumed) this.out('finished an interrupted run first');
      if (this.dryRun) {
        for (const a of s.plan.actions) this.out(actionLine(a));
        if (s.plan.actions.length === 0) this.out('nothing to do');
      }
      for (const p of s.autoMerged) this.out(`auto-merged: ${display(p)}`);
      for (const c of s.conflicts) this.out(`conflict ${conflictLine(c)}`);
      for (const c of s.notices) this.out(`note ${c.kind}: ${display(c.path)}: ${c.message}`);
      for (const f of s.failures) this.out(`failed: ${f.reason}`);
      for (const p of s.problems) this.out(`skipped: ${p.reason}`);
      for (const n of s.notes) this.out(`note: ${n.note}`);
      const verb = this.dryRun ? 'planned' : 'applied';
      const n = this.dryRun ? s.plan.actions.length : s.applied;
      this.out(
        `${s.first ? 'first sync: ' : ''}${n} ${verb}, ${s.conflicts.length} conflicts, ` +
          `${s.autoMerged.length} auto-merged, ${s.failures.length} failed` +
          (s.problems.length > 0 ? `, ${s.problems.length} skipped` : '') +
          (s.open > 0 ? `; ${s.open} open conflicts: see "tether conflicts"` : ''),
      );
    }
    if (s.failures.length > 0 || s.problems.length > 0) return EXIT.error;
    const remain = this.dryRun ? s.conflicts.length + s.open : s.open;
    return remain > 0 ? EXIT.conflicts : EXIT.ok;
  }
}

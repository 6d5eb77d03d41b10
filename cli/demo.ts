// `tether demo`: tether's main job on a built-in example, step by step, each step a real
// tether command (printed before it runs, so it can be typed again). Each step's exit
// status is checked, so the demo is also a smoke test of a fresh install.
import { Command, Option } from 'clipanion';
import { TetherError } from '../src/errors.js';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { editForDiff, editLocal, editServer, writeExample } from '../src/demo/example.js';
import { TetherCommand } from './base.js';

// The script this process runs (the bundled CLI, or cli/main.js when run from the build).
const MAIN = process.argv[1]!;

export class DemoCommand extends TetherCommand {
  static override paths = [['demo']];
  static override usage = Command.Usage({
    description:
      'run tether on a built-in example: snapshots, diff, and a two-replica sync with conflicts',
    details: `
      Creates an example project in a new directory (or --dir), then runs, printing each command first:
      two snapshots and a diff of them; then a "laptop" and a "server" copy, a first sync, offline edits
      on both sides (one of them overlapping), a sync that merges what it can and keeps the conflict as a
      sibling variant, and the commands that inspect and resolve it. The directory is kept for you to explore.
    `,
    examples: [
      ['Run the demo', '$0 demo'],
      ['Run it in a chosen directory', '$0 demo --dir /tmp/tether-demo'],
    ],
  });

  dir = Option.String('--dir', {
    description: 'Directory for the example (default: a new temporary one)',
  });

  async execute(): Promise<number> {
    const dir =
      this.dir === undefined ? await mkdtemp(join(tmpdir(), 'tether-demo-')) : resolve(this.dir);
    const say = (text: string) => this.context.stdout.write(`\n\x1b[1m# ${text}\x1b[0m\n`);
    const run = (args: string[], expect: number[]): void => {
      this.step(dir, args, expect);
    };
    this.out(`tether demo in ${dir}`);

    say('A project tree, snapshotted, edited, snapshotted again, and the two snapshots compared');
    await writeExample(join(dir, 'project'));
    run(['snapshot', 'take', 'v1', '--of', 'project', '--store', 'store'], [0]);
    await editForDiff(join(dir, 'project'));
    run(['snapshot', 'take', 'v2', '--of', 'project', '--store', 'store'], [0]);
    run(['snapshot', 'list', '--store', 'store'], [0]);
    run(['diff', 'v1', 'v2', '--store', 'store'], [1]);
    run(['diff', 'v1', 'v2', '--store', 'store', '--stat'], [1]);

    say('A laptop and a server replica of the project, and a first sync that records the base');
    this.shell(dir, ['cp', '-a', 'project', 'laptop']);
    this.shell(dir, ['cp', '-a', 'project', 'server']);
    run(['sync-dirs', 'laptop', 'server', '--store', 'sync-store'], [0]);

    say('Offline edits on the laptop, other edits on the server; the plan, then the sync');
    await editLocal(join(dir, 'laptop'));
    await editServer(join(dir, 'server'));
    run(['sync-dirs', 'laptop', 'server', '--store', 'sync-store', '--dry-run'], [0, 3]);
    run(['sync-dirs', 'laptop', 'server', '--store', 'sync-store'], [3]);

    say('The conflict: both sides rewrote the same line of docs/notes.txt; both versions are kept');
    run(['conflicts', '--store', 'sync-store'], [0]);
    run(['show', 'docs/notes.txt', '--variant', 'base', '--store', 'sync-store'], [0]);
    run(['resolve', 'docs/notes.txt', '--take', 'both', '--store', 'sync-store'], [0]);
    run(['sync-dirs', 'laptop', 'server', '--store', 'sync-store'], [0]);

    say('Both replicas now hold the same tree, and the store verifies');
    run(['diff', './laptop', './server', '--store', 'store'], [0]);
    run(['fsck', '--store', 'sync-store'], [0]);
    this.out(`\ndemo finished; everything is in ${dir}`);
    return 0;
  }

  private step(cwd: string, args: string[], expect: number[]): void {
    this.context.stdout.write(`\n$ tether ${args.join(' ')}\n`);
    const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, stdio: 'inherit' });
    const status = r.status ?? 1;
    if (!expect.includes(status)) {
      throw new TetherError(
        'EIO',
        `the demo stopped: "tether ${args.join(' ')}" exited ${status}, expected ` +
          `${expect.join(' or ')}; its output is above`,
      );
    }
  }

  private shell(cwd: string, argv: string[]): void {
    this.context.stdout.write(`\n$ ${argv.join(' ')}\n`);
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: 'inherit' });
    if (r.status !== 0) {
      throw new TetherError(
        'EIO',
        `the demo stopped: "${argv.join(' ')}" failed; its output is above`,
      );
    }
  }
}

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
import { mountDemo } from '../src/demo/mount-demo.js';
import { checkFuse } from '../src/daemon/volume-start.js';
import { TetherCommand } from './base.js';

// The script this process runs (the bundled CLI, or cli/main.js when run from the build).
const MAIN = process.argv[1]!;

export class DemoCommand extends TetherCommand {
  static override paths = [['demo']];
  static override usage = Command.Usage({
    description: 'run tether on a built-in example: a mount that keeps working offline',
    details: `
      Creates an example project in a new directory (or --dir) standing in for a server share, and
      runs, printing each command first: \`tether mount\`, reads online, \`tether offline\`, edits in the
      mount while the server changes too, \`tether online\` (a three-way merge: what merges is applied,
      the conflict is kept as a sibling variant in the mount), the commands that inspect and resolve
      it, and \`tether unmount\`. Where FUSE is not available (no /dev/fuse, no fusermount, no
      binding) it says so and runs the two-replica story instead (\`--sync-dirs\` asks for it): two
      snapshots and a diff, then a "laptop" and a "server" copy synced with \`tether sync-dirs\`. The
      directory is kept for you to explore.
    `,
    examples: [
      ['Run the demo', '$0 demo'],
      ['Run it in a chosen directory', '$0 demo --dir /tmp/tether-demo'],
      ['The two-replica story', '$0 demo --sync-dirs'],
    ],
  });

  dir = Option.String('--dir', {
    description: 'Directory for the example (default: a new temporary one)',
  });
  syncDirs = Option.Boolean('--sync-dirs', false, {
    description: 'Run the two-replica sync-dirs story, not the mount',
  });

  async execute(): Promise<number> {
    const dir =
      this.dir === undefined ? await mkdtemp(join(tmpdir(), 'tether-demo-')) : resolve(this.dir);
    // Headings in bold on a terminal only (as help is): piped or logged, escape codes are noise.
    const bold = process.stdout.isTTY && process.env['NO_COLOR'] === undefined;
    const say = (text: string) =>
      this.context.stdout.write(bold ? `\n\x1b[1m# ${text}\x1b[0m\n` : `\n# ${text}\n`);
    const run = (args: string[], expect: number[]): void => {
      this.step(dir, args, expect);
    };
    this.out(`tether demo in ${dir}`);

    const noFuse = this.syncDirs ? 'asked for with --sync-dirs' : fuseMissing();
    if (noFuse === undefined) {
      await mountDemo(dir, {
        say,
        run,
        shell: (line, expect = [0]) => {
          this.sh(dir, line, expect);
        },
      });
      this.out(`\ndemo finished; everything is in ${dir}`);
      return 0;
    }
    this.out(
      this.syncDirs
        ? 'the two-replica story (sync-dirs)'
        : `FUSE is not available here (${noFuse}), so the mount cannot be shown: ` +
            'running the two-replica story (sync-dirs) instead',
    );

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

  private sh(cwd: string, line: string, expect: number[]): void {
    this.context.stdout.write(`\n$ ${line}\n`);
    const r = spawnSync('sh', ['-c', line], { cwd, stdio: 'inherit', timeout: 60_000 });
    if (!expect.includes(r.status ?? 1)) {
      throw new TetherError(
        'EIO',
        `the demo stopped: "${line}" exited ${r.status ?? 'on a signal'}; its output is above`,
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

/** Why the mount cannot be shown here (undefined: it can). */
function fuseMissing(): string | undefined {
  try {
    checkFuse();
    return undefined;
  } catch (err) {
    return (err as Error).message.split(':')[0];
  }
}

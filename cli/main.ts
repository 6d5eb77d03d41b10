// The tether command line: one file per command (clipanion), each thin over src/. Built into
// one CommonJS file (dist/tether-cli.cjs) that dist/tether.cjs starts (cli/launch.ts).
import { isatty } from 'node:tty';
import { Builtins, Cli, type CommandClass } from 'clipanion';
import { EXIT } from './base.js';
import { exitWhenWritten, VERSION } from './output.js';
import { describe } from './report.js';

// Each command's module is loaded only when its name is the first argument (start-up time is
// part of every command's time); an unknown first word or a request for help loads them all.
type Loader = () => Promise<CommandClass[]>;
const COMMANDS: Record<string, Loader> = {
  demo: async () => [(await import('./demo.js')).DemoCommand],
  snapshot: async () => [
    (await import('./snapshot-take.js')).SnapshotTakeCommand,
    (await import('./snapshot-list.js')).SnapshotListCommand,
    (await import('./snapshot-show.js')).SnapshotShowCommand,
    (await import('./snapshot-rm.js')).SnapshotRmCommand,
    (await import('./snapshot-restore.js')).SnapshotRestoreCommand,
  ],
  diff: async () => [(await import('./diff.js')).DiffCommand],
  fsck: async () => [(await import('./fsck.js')).FsckCommand],
  gc: async () => [(await import('./gc.js')).GcCommand],
  'sync-dirs': async () => [(await import('./sync-dirs.js')).SyncDirsCommand],
  conflicts: async () => [(await import('./conflicts.js')).ConflictsCommand],
  resolve: async () => [(await import('./resolve.js')).ResolveCommand],
  show: async () => [(await import('./show.js')).ShowCommand],
  log: async () => [(await import('./log.js')).LogCommand],
  mount: async () => [
    (await import('./mount.js')).MountCommand,
    (await import('./mount-view.js')).MountViewCommand,
  ],
  '__view-daemon': async () => [(await import('./mount-view.js')).ViewDaemonCommand],
  __daemon: async () => [(await import('./mount.js')).DaemonCommand],
  unmount: async () => [(await import('./unmount.js')).UnmountCommand],
  status: async () => [(await import('./status.js')).StatusCommand],
  offline: async () => [(await import('./mode.js')).OfflineCommand],
  online: async () => [(await import('./mode.js')).OnlineCommand],
  sync: async () => [(await import('./sync.js')).SyncCommand],
  why: async () => [(await import('./why.js')).WhyCommand],
  __agent: async () => [(await import('./agent.js')).AgentCommand],
  mode: async () => [(await import('./reconnect-mode.js')).ModeCommand],
  events: async () => [(await import('./events.js')).EventsCommand],
  pin: async () => [(await import('./pin.js')).PinCommand],
  unpin: async () => [(await import('./pin.js')).UnpinCommand],
  pins: async () => [(await import('./pin.js')).PinsCommand],
  hoard: async () => [(await import('./hoard.js')).HoardCommand],
};

// A reader that stops early (\`tether snapshot list | head -1\`) closes the pipe: the rest of
// the output is not wanted, which is no error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') fail(err);
    process.exit();
  });
}

/** The last line of defence: an error no command caught ends the process as a tether message. */
function fail(err: unknown): void {
  const r = describe(err, ['tether', ...process.argv.slice(2, 3)].join(' '));
  try {
    process.stderr.write(`tether: ${r.message}\n`);
  } finally {
    process.exitCode = r.kind === 'usage' ? EXIT.usage : EXIT.error;
  }
}

// Errors thrown where no command awaits them (a callback, a lost promise) end here too.
process.on('uncaughtException', (err) => {
  fail(err);
  process.exit();
});
process.on('unhandledRejection', (err) => {
  fail(err);
  process.exit();
});

async function main(argv: readonly string[]): Promise<void> {
  const cli = new Cli({
    binaryLabel: 'tether',
    binaryName: 'tether',
    binaryVersion: VERSION,
    // Help and usage errors in colour on a terminal only: clipanion judges by TERM alone, so
    // \`tether --help | less\` got escape codes. NO_COLOR (no-color.org) turns colour off.
    enableColors: isatty(1) && process.env['NO_COLOR'] === undefined,
  });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  const named = argv[0] === undefined ? undefined : COMMANDS[argv[0]];
  const wanted = named !== undefined && !argv.includes('--help') && !argv.includes('-h');
  for (const load of wanted ? [named] : Object.values(COMMANDS)) {
    for (const command of await load()) cli.register(command);
  }

  let command;
  try {
    command = cli.process([...argv]);
  } catch (err) {
    process.stderr.write(cli.error(err));
    process.exitCode = EXIT.usage;
  }
  if (command !== undefined) {
    // The parsed command itself: given the arguments again, clipanion would build its parser
    // a second time.
    const code = await cli.run(command, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
    });
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
  }
}

main(process.argv.slice(2)).then(exitWhenWritten, (err: unknown) => {
  // Commands report their own errors; what arrives here failed outside any command.
  fail(err);
  exitWhenWritten();
});

#!/usr/bin/env node
// The tether command line: one file per command (clipanion), each thin over src/.
// More I/O threads than libuv's 4: a scan keeps many reads, writes and fsyncs in flight.
process.env['UV_THREADPOOL_SIZE'] ??= '16';
import { Builtins, Cli } from 'clipanion';
import { EXIT } from './base.js';
import { DemoCommand } from './demo.js';
import { ConflictsCommand } from './conflicts.js';
import { ResolveCommand } from './resolve.js';
import { ShowCommand } from './show.js';
import { DiffCommand } from './diff.js';
import { FsckCommand } from './fsck.js';
import { SyncDirsCommand } from './sync-dirs.js';
import { SnapshotListCommand } from './snapshot-list.js';
import { SnapshotRmCommand } from './snapshot-rm.js';
import { SnapshotShowCommand } from './snapshot-show.js';
import { SnapshotTakeCommand } from './snapshot-take.js';

const cli = new Cli({ binaryLabel: 'tether', binaryName: 'tether', binaryVersion: '0.1.0' });
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);
// Commands are registered here, one line each.
cli.register(DemoCommand);
cli.register(ConflictsCommand);
cli.register(ResolveCommand);
cli.register(ShowCommand);
cli.register(DiffCommand);
cli.register(FsckCommand);
cli.register(SyncDirsCommand);
cli.register(SnapshotTakeCommand);
cli.register(SnapshotListCommand);
cli.register(SnapshotShowCommand);
cli.register(SnapshotRmCommand);

const argv = process.argv.slice(2);
let command;
try {
  command = cli.process(argv);
} catch (err) {
  process.stderr.write(cli.error(err));
  process.exitCode = EXIT.usage;
}
if (command !== undefined) {
  const code = await cli.run(argv, {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
}

// The thin command line (dist/tether-thin.cjs): the commands that only ask a volume's daemon
// (unmount among them: it asks the daemon to stop and waits until it has), --version and
// --help, without the full command line's start-up (clipanion, lmdb, msgpackr and the rest of tether
// are not loaded). It runs the same bodies as the full commands (cli/run/), so what it prints
// is theirs. It takes only arguments it reads exactly as clipanion would (known options, each
// once; the right number of PATHs; no "--", no --help), and hands the command back to the full
// command line (runThin answers false) in every other case, and whenever the command fails
// before any request reached a daemon and before it printed anything (a path in no mount, a
// daemon that is not there, a usage error of the command's own): the full command then says
// it in its own words. Otherwise the thin command reports its errors itself, through the same
// describe() as the full one (a request is never sent twice, a line never printed twice).
import { isatty } from 'node:tty';
import { requestsSent } from '../src/volume/control.js';
import { EXIT, exitWhenWritten, streamIo, VERSION, type Io } from './output.js';
import { describe } from './report.js';
import { daemonEvents } from './run/events.js';
import { hoard } from './run/hoard.js';
import { offline, online } from './run/mode.js';
import { pin, pins, unpin } from './run/pin.js';
import { setReconnectMode } from './run/reconnect-mode.js';
import { status } from './run/status.js';
import { sync } from './run/sync.js';
import { unmount } from './run/unmount.js';
import { why } from './run/why.js';
import { isThinWord, type ThinWord } from './thin-words.js';

/** The arguments after the command's name, read. */
export interface Args {
  /** Which flags were given, by their field (`--recursive` and `-r` are both 'recursive'). */
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  readonly paths: readonly string[];
}

/** What a command takes, as its clipanion class declares it, and its body. */
interface Grammar {
  /** Each spelling of a flag and the field it sets. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Options with a value: each spelling and its field. */
  readonly values?: Readonly<Record<string, string>>;
  readonly minPaths: number;
  readonly maxPaths: number;
  /** Whether the thin command line runs it here (by default it does). */
  readonly here?: () => boolean;
  /** The body; `log` writes a line of what happened on the way to stderr, as "tether: …". */
  run(a: Args, io: Io, log: (line: string) => void): Promise<number>;
}

// The full command line's `tether --help` without colour, made by the build (tools/bundle.ts)
// from the same commands; undefined outside the bundle.
declare const __thinHelp: string | undefined;
const HELP = typeof __thinHelp === 'string' ? __thinHelp : undefined;

const JSON_FLAG = { '--json': 'json' };
const NO_PROGRESS = { update: () => undefined, stop: () => undefined };
const printVersion: Grammar = {
  minPaths: 0,
  maxPaths: 0,
  run: (_a, io) => {
    io.out(VERSION);
    return Promise.resolve(0);
  },
};

const printHelp: Grammar = {
  minPaths: 0,
  maxPaths: 0,
  // In colour on a terminal, as the full command line decides it (cli/main.ts): that text is
  // the full one's to print.
  here: () => HELP !== undefined && !(isatty(1) && process.env['NO_COLOR'] === undefined),
  run: () => {
    process.stdout.write(HELP ?? '');
    return Promise.resolve(0);
  },
};

const GRAMMARS: Record<ThinWord, Grammar> = {
  status: {
    flags: JSON_FLAG,
    minPaths: 0,
    maxPaths: 1,
    run: (a, io) => status(a.paths[0], a.flags.has('json'), io),
  },
  offline: { minPaths: 1, maxPaths: 1, run: (a, io) => offline(a.paths[0]!, io) },
  online: { minPaths: 1, maxPaths: 1, run: (a, io) => online(a.paths[0]!, io) },
  sync: {
    flags: { '--dry-run': 'dryRun', ...JSON_FLAG },
    minPaths: 1,
    maxPaths: 1,
    run: (a, io) =>
      sync(a.paths[0]!, { dryRun: a.flags.has('dryRun'), asJson: a.flags.has('json') }, io),
  },
  why: {
    flags: JSON_FLAG,
    minPaths: 1,
    maxPaths: 1,
    run: (a, io) => why(a.paths[0]!, a.flags.has('json'), io),
  },
  pin: {
    flags: { '--recursive': 'recursive', '-r': 'recursive' },
    values: { '--priority': 'priority' },
    minPaths: 1,
    maxPaths: Infinity,
    run: (a, io) =>
      pin(
        a.paths,
        { recursive: a.flags.has('recursive'), priority: a.values.get('priority') ?? '0' },
        io,
      ),
  },
  unpin: { minPaths: 1, maxPaths: Infinity, run: (a, io) => unpin(a.paths, io) },
  pins: {
    flags: JSON_FLAG,
    minPaths: 0,
    maxPaths: 1,
    run: (a, io) => pins(a.paths[0], a.flags.has('json'), io),
  },
  mode: {
    minPaths: 2,
    maxPaths: 2,
    run: (a, io) => setReconnectMode(a.paths[0]!, a.paths[1]!, io),
  },
  events: {
    flags: { '--follow': 'follow', '-f': 'follow', ...JSON_FLAG },
    minPaths: 0,
    maxPaths: 1,
    run: (a, io) =>
      daemonEvents(a.paths[0], { follow: a.flags.has('follow'), asJson: a.flags.has('json') }, io),
  },
  unmount: { minPaths: 1, maxPaths: 1, run: (a, io, log) => unmount(a.paths[0]!, io, log) },
  hoard: {
    flags: JSON_FLAG,
    minPaths: 0,
    maxPaths: Infinity,
    // On a terminal the full command line draws a progress bar (cli-progress, not in this
    // bundle); elsewhere it shows none, and neither does this one.
    here: () => !process.stderr.isTTY,
    run: (a, io) => hoard(a.paths, a.flags.has('json'), io, () => NO_PROGRESS),
  },
  '--version': printVersion,
  '-v': printVersion,
  '--help': printHelp,
  '-h': printHelp,
};

/** `argv` read, if the thin command line takes it (undefined: the full one runs it). */
export function parseThin(argv: readonly string[]): { word: ThinWord; args: Args } | undefined {
  const word = argv[0];
  if (!isThinWord(word)) return undefined;
  const args = readArgs(GRAMMARS[word], argv.slice(1));
  return args === undefined ? undefined : { word, args };
}

/** `rest` read by `g`, or undefined for anything it does not take exactly. */
function readArgs(g: Grammar, rest: readonly string[]): Args | undefined {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const paths: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const flag = g.flags?.[arg];
    const value = g.values?.[name];
    if (flag !== undefined) {
      if (flags.has(flag)) return undefined;
      flags.add(flag);
    } else if (value !== undefined) {
      const v = name === arg ? rest[++i] : arg.slice(eq + 1);
      if (v === undefined || v === '' || v.startsWith('-') || values.has(value)) return undefined;
      values.set(value, v);
    } else if (arg.startsWith('-')) {
      return undefined; // --help, "--", an option this command lacks: the full parser's
    } else paths.push(arg);
  }
  if (paths.length < g.minPaths || paths.length > g.maxPaths) return undefined;
  return { flags, values, paths };
}

/**
 * Run `argv` (the arguments after the program) if the thin command line takes it: true when
 * it did (the process then exits once its output is written), false when the full command line
 * is to run it instead (nothing was printed, nothing asked of any daemon, no handler left).
 */
export async function runThin(argv: readonly string[]): Promise<boolean> {
  const parsed = parseThin(argv);
  if (parsed === undefined) return false;
  const { word, args } = parsed;
  const grammar = GRAMMARS[word];
  if (grammar.here !== undefined && !grammar.here()) return false;
  const command = `tether ${word}`;
  let printed = 0; // results and log lines written (lines or JSON values)
  const stdout = streamIo(process.stdout);
  const io: Io = {
    out: (line) => {
      printed++;
      stdout.out(line);
    },
    json: (value) => {
      printed++;
      stdout.json(value);
    },
  };
  const log = (line: string): void => {
    printed++;
    process.stderr.write(`tether: ${line}\n`);
  };
  const fail = (err: unknown): void => {
    const r = describe(err, command);
    process.stderr.write(`tether: ${r.message}\n`);
    process.exitCode = r.kind === 'usage' ? EXIT.usage : EXIT.error;
  };
  // As the full command line: a reader that stops early is no error, and an error thrown
  // where no command awaits it still ends as a tether message.
  const onStreamError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') fail(err);
    process.exit();
  };
  const onStray = (err: unknown): void => {
    fail(err);
    process.exit();
  };
  const listen = (on: boolean): void => {
    for (const s of [process.stdout, process.stderr]) {
      if (on) s.on('error', onStreamError);
      else s.off('error', onStreamError);
    }
    for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
      if (on) process.on(event, onStray);
      else process.off(event, onStray);
    }
  };
  listen(true);
  try {
    process.exitCode = await grammar.run(args, io, log);
  } catch (err) {
    if (printed === 0 && requestsSent() === 0) {
      listen(false);
      return false;
    }
    fail(err);
  }
  exitWhenWritten();
  return true;
}

// What every command shares: the --store option, error reporting (a TetherError's message
// says what was wrong and what to do), exit codes (0 ok, 1 error, 2 usage, 3 conflicts
// remain), and JSON output.
import { Command, Option } from 'clipanion';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TetherError } from '../src/errors.js';
import type { Store } from '../src/store/store.js';
import { EXIT, jsonReplacer, streamIo, type Io } from './output.js';
import { describe } from './report.js';

export { EXIT, jsonReplacer };

export abstract class TetherCommand extends Command {
  /** Exit status for an error this command did not expect (diff overrides it: 2). */
  protected errorExit: number = EXIT.error;

  override catch(err: unknown): Promise<void> {
    this.report(err);
    return Promise.resolve();
  }

  private report(err: unknown): void {
    const r = describe(err, ['tether', ...this.path].join(' '));
    this.context.stderr.write(`tether: ${r.message}\n`);
    process.exitCode = r.kind === 'usage' ? EXIT.usage : this.errorExit;
  }

  protected json(value: unknown): void {
    this.context.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
  }

  protected out(line: string): void {
    this.context.stdout.write(line + '\n');
  }

  /** This command's output, for the bodies it shares with the thin command line (cli/run/). */
  protected get io(): Io {
    return streamIo(this.context.stdout);
  }
}

/** The --store option: defaults to $XDG_DATA_HOME/tether/<name>. */
export function storeOption(): string | undefined {
  return Option.String('--store', {
    description: 'Store directory (default $XDG_DATA_HOME/tether/default)',
  });
}

export function resolveStore(store: string | undefined, volumeName = 'default'): string {
  if (store !== undefined) return resolve(store);
  const data = process.env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share');
  return join(data, 'tether', volumeName);
}

/** Open the store at `dir` (made when `create` and it does not exist yet). */
async function openStore(dir: string, create = false): Promise<Store> {
  const { Store } = await import('../src/store/store.js');
  return create ? Store.openOrCreate(dir) : Store.open(dir);
}

/** Run `fn` with the store open, closing it afterwards whatever happens. */
export async function withStore<T>(
  dir: string,
  fn: (store: Store) => Promise<T>,
  create = false,
): Promise<T> {
  const store = await openStore(dir, create);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A snapshot name: a ref name part without slashes, not starting with '@' or '.'. */
export function checkSnapshotName(name: string): string {
  if (
    name === '' ||
    name.includes('/') ||
    name.startsWith('@') ||
    name.startsWith('.') ||
    /[\0\s]/.test(name)
  ) {
    throw new TetherError(
      'EUSAGE',
      `"${name}" cannot name a snapshot: use letters, digits, '-', '_' or '.' (not first), ` +
        'without "/", spaces or a leading "@"',
    );
  }
  return name;
}

/** The tree a snapshot names, or a clear error saying how to see the names there are. */
export function snapshotTree(store: Store, name: string): string {
  const id = store.getRef('snap/' + name);
  if (id === undefined) {
    throw new TetherError(
      'ENOTFOUND',
      `no snapshot named "${name}" in ${store.dir}; "tether snapshot list --store ${store.dir}" shows the names`,
      { name },
    );
  }
  return id;
}

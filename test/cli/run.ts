// Running the compiled CLI as users do: a child process, its exit status and its output.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../tether.cjs', import.meta.url));

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function tether(args: readonly string[], opts: SpawnSyncOptions = {}): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', ...opts });
  return { status: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Start the CLI without waiting (for kill -9 tests). */
export function tetherAsync(args: readonly string[], cwd?: string) {
  return spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'tether-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a run of the CLI loaded: the native addons mapped into it, and what require loaded. */
export interface Loaded {
  readonly natives: readonly string[];
  readonly modules: readonly string[];
  /** The .cjs files read (the full command line's bundle is read by the launcher to compile). */
  readonly bundles: readonly string[];
}

/** Whether the run went to the full command line (read its bundle). */
export const fullRead = (l: Loaded): boolean => l.bundles.some((f) => f.endsWith('tether-cli.cjs'));

// Preloaded into the CLI's process: at exit, it writes what the process loaded to the file
// that TETHER_TEST_LOADED names.
const RECORDER = `
const fs = require('node:fs');
const { readFileSync, writeFileSync } = fs;
const bundles = [];
fs.readFileSync = function (file, ...rest) {
  if (typeof file === 'string' && file.endsWith('.cjs')) bundles.push(file);
  return readFileSync.call(this, file, ...rest);
};
process.on('exit', () => {
  const natives = readFileSync('/proc/self/maps', 'utf8').split('\\n')
    .map((l) => l.trim().split(/\\s+/)[5] ?? '').filter((p) => p.endsWith('.node'));
  writeFileSync(process.env.TETHER_TEST_LOADED, JSON.stringify({
    natives: [...new Set(natives)], modules: Object.keys(require.cache), bundles,
  }));
});
`;

/**
 * Run the CLI as `tether` does, and say what it loaded (the environment is added to ours). On
 * a `terminal` (script(1) makes one), stdout and stderr are both the terminal's, in `stdout`.
 */
export function tetherLoading(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
  terminal = false,
): Run & { readonly loaded: Loaded } {
  const { dir, cleanup } = tempDir('tether-loaded-');
  try {
    const recorder = join(dir, 'recorder.cjs');
    const file = join(dir, 'loaded.json');
    writeFileSync(recorder, RECORDER);
    const argv = [process.execPath, '-r', recorder, MAIN, ...args];
    const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const [program, ...rest] = terminal ? ['script', '-qec', quoted, '/dev/null'] : argv;
    const r = spawnSync(program!, rest, {
      encoding: 'utf8',
      timeout: timeoutMs,
      env: { ...process.env, ...env, TETHER_TEST_LOADED: file },
    });
    const loaded = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as Loaded)
      : { natives: [], modules: [], bundles: [] };
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, loaded };
  } finally {
    cleanup();
  }
}

#!/usr/bin/env node
// What `tether` runs (dist/tether.cjs): the bundled command line (dist/tether-cli.cjs, one
// CommonJS file), compiled with V8's code cache that the build made next to it
// (dist/tether-cli.cjs.cache). Both are CommonJS: an ES module entry point costs Node about
// 8 ms more to start (its ESM loader). Node 20 has no
// compile cache of its own; without one, compiling the bundle's functions as they are first
// called costs about 40 ms of every command. The cache names the build it was made from (the
// id on the bundle's last line), so a cache left from another build is never used; V8 itself
// rejects one from another Node version or other flags, and the command then runs uncached.
// TETHER_CODE_CACHE=0 runs without it.
//
// Commands that only ask a volume's daemon (status, online, offline, sync, unmount, ...),
// --version and --help go first to the thin command line (dist/tether-thin.cjs,
// cli/thin.ts), which starts without any of that; it hands back to the full command line
// whatever it does not run itself.
// TETHER_THIN=0 runs every command in the full command line.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { BUILD_ID_PREFIX } from './launch-id.js';
import { isThinWord } from './thin-words.js';

// The bundler builds this file as CommonJS and defines __launcherFile as its __filename.
declare const __launcherFile: string;
const here = dirname(__launcherFile);
const argv = process.argv.slice(2);

const thin = process.env['TETHER_THIN'] !== '0' && isThinWord(argv[0]) ? loadThin() : undefined;
if (thin === undefined) runFull();
else {
  void thin(argv).then((done) => {
    if (!done) runFull();
  });
}

/** The thin command line's entry, or undefined when it is not there (the full one runs). */
function loadThin(): ((argv: readonly string[]) => Promise<boolean>) | undefined {
  try {
    const m = createRequire(__launcherFile)(join(here, 'tether-thin.cjs')) as {
      runThin: (argv: readonly string[]) => Promise<boolean>;
    };
    return m.runThin;
  } catch {
    return undefined;
  }
}

/** The full command line, from its bundle and code cache. */
function runFull(): void {
  // libuv's I/O pool keeps its default 4 threads: on two cores, 8 or 16 made a rescan slower.
  // msgpackr (under lmdb, and for plan and conflict records) without its native string
  // extractor: tether's records are small, and loading the extractor costs more than it saves.
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
  // Which C library, for lmdb's loader to pick its native build: told the way its own probe
  // first looks (the text of ldd), that probe's module (about 4 ms to load) is not needed.
  if (process.platform === 'linux' && process.env['LIBC'] === undefined) {
    try {
      const ldd = readFileSync('/usr/bin/ldd', 'latin1');
      if (ldd.includes('musl')) process.env['LIBC'] = 'musl';
      else if (ldd.includes('GNU C Library')) process.env['LIBC'] = 'glibc';
    } catch {
      // no ldd there: lmdb's loader asks on its own
    }
  }

  const file = join(here, 'tether-cli.cjs');
  let source: string;
  try {
    source = readFileSync(file, 'latin1'); // ASCII, as the build checks: no UTF-8 to decode
  } catch (err) {
    process.stderr.write(
      `tether: cannot read ${file}: ${(err as Error).message}; run "npm run build" in tether's directory\n`,
    );
    process.exit(1);
  }
  const cachedData = codeCache(file, source);
  const script = new Script(
    Module.wrap(source),
    cachedData === undefined ? { filename: file } : { filename: file, cachedData },
  );
  const run = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: object,
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  run(mod.exports, createRequire(file), mod, file, here);
}

/** The code cache the build made for `source` (the bundle at `file`), if it is this build's. */
function codeCache(file: string, source: string): Buffer | undefined {
  if (process.env['TETHER_CODE_CACHE'] === '0') return undefined;
  const at = source.lastIndexOf(BUILD_ID_PREFIX);
  if (at < 0) return undefined;
  const id = source.slice(at + BUILD_ID_PREFIX.length).trim();
  let cache: Buffer;
  try {
    cache = readFileSync(file + '.cache');
  } catch {
    return undefined; // not made by this build: run uncached
  }
  const nl = cache.indexOf(10);
  if (nl < 0 || cache.toString('latin1', 0, nl) !== id) return undefined;
  return cache.subarray(nl + 1);
}

// Build step after tsc: bundle the command line into one CommonJS file (dist/tether-cli.cjs),
// the thin command line (the commands that only ask a daemon) into dist/tether-thin.cjs, the
// launcher into dist/tether.cjs, and make V8's code cache for the bundle (its .cache;
// see cli/launch.ts). Every function is compiled for the cache (--no-lazy), so it serves every
// command. The bundle ends with a build id, and the cache starts with it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { build, type Plugin } from 'esbuild';
import { BUILD_ID_PREFIX } from '../cli/launch-id.js';

const BUNDLE = 'dist/tether-cli.cjs';
// Externals: packages that find native files next to their own modules. lmdb is bundled (its
// JavaScript, with msgpackr's, is then compiled from the code cache like tether's own): the
// one line where it finds its directory, to load its native addon from there, is rewritten to
// ask Node where the package is (see lmdbHome).
const external = ['@napi-rs/*', 'msgpackr-extract'];

/** lmdb's own directory from its bundled code: where Node resolves the package at run time. */
const lmdbHome: Plugin = {
  name: 'lmdb-home',
  setup(b) {
    // The CommonJS builds, the ones Node's require loads (lmdb's, not its ESM entry).
    const req = createRequire(import.meta.url);
    b.onResolve({ filter: /^(lmdb|msgpackr)$/ }, (args) => ({ path: req.resolve(args.path) }));
    b.onLoad({ filter: /[\\/]node_modules[\\/]lmdb[\\/]dist[\\/]index\.cjs$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const line = /^let dirName = .*__filename.*;$/m;
      const found = source.match(new RegExp(line.source, 'gm')) ?? [];
      if (found.length !== 1) {
        throw new Error(
          `${args.path}: expected one "let dirName = ..." line, found ${found.length}`,
        );
      }
      return {
        contents: source.replace(
          line,
          "let dirName = pathModule.dirname(require.resolve('lmdb')).replace(/dist$/, '');",
        ),
        loader: 'js',
      };
    });
  },
};

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  plugins: [lmdbHome],
  // The rewritten line asks Node for lmdb's directory at run time, on purpose.
  logOverride: { 'require-resolve-not-external': 'silent' },
  // The compiled modules find their neighbours (the native helper) from import.meta.url.
  define: { 'import.meta.url': '__tetherUrl' },
  banner: { js: "const __tetherUrl = require('node:url').pathToFileURL(__filename).href;" },
  // No comments or indentation: less to read and to check against the code cache, and the
  // bundle stays ASCII, which the launcher reads as Latin-1 without decoding UTF-8.
  minifyWhitespace: true,
  logLevel: 'warning',
});
// `tether --help` as the full command line prints it where its output is no terminal (no
// colour): the thin command line prints this text (cli/thin.ts), and test/cli/thin.test.ts
// checks that it is still the full one's.
const help = execFileSync(process.execPath, ['dist/cli/main.js', '--help'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
// The thin command line loads none of the store's packages and native addons, nor clipanion
// (the point of it): a module of it that imports one fails the build, naming both.
const THIN = 'dist/tether-thin.cjs';
const heavy =
  /(^|[\\/])(lmdb|msgpackr|msgpackr-extract|clipanion|cli-progress|@napi-rs|native-addon\.js)([\\/]|$)/;
const thin = await build({
  entryPoints: ['dist/cli/thin.js'],
  outfile: THIN,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  define: { __thinHelp: JSON.stringify(help) },
  minifyWhitespace: true,
  metafile: true,
  logLevel: 'warning',
});
for (const [file, input] of Object.entries(thin.metafile.inputs)) {
  for (const imp of input.imports) {
    if (heavy.test(imp.path)) {
      throw new Error(`${THIN}: ${file} imports ${imp.path}; the thin command line must not`);
    }
  }
}
await build({
  entryPoints: ['dist/cli/launch.js'],
  outfile: 'dist/tether.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  define: { __launcherFile: '__filename' },
  minifyWhitespace: true,
  logLevel: 'warning',
});

const bundled = readFileSync(BUNDLE);
// The launcher reads the bundle as Latin-1, which is only right for ASCII.
const wide = bundled.findIndex((b) => b > 0x7f);
if (wide >= 0) {
  const line = bundled.subarray(0, wide).toString('latin1').split('\n').length;
  throw new Error(`${BUNDLE}:${line}: a character that is not ASCII; escape it in the source`);
}
const id = createHash('sha256').update(bundled).digest('hex').slice(0, 32);
appendFileSync(BUNDLE, `\n${BUILD_ID_PREFIX}${id}\n`);
// Compiled eagerly, cached under the default flags: V8 refuses a cache whose flags differ
// from the running ones, and --lazy is the default.
setFlagsFromString('--no-lazy');
const script = new Script(Module.wrap(readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE });
setFlagsFromString('--lazy');
writeFileSync(
  BUNDLE + '.cache',
  Buffer.concat([Buffer.from(id + '\n'), script.createCachedData()]),
);

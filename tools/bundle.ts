// Build step after tsc: bundle the command line into one CommonJS file (dist/tether.cjs), the
// launcher into dist/tether.js, and make V8's code cache for the bundle (dist/tether.cjs.cache;
// see cli/launch.ts). Every function is compiled for the cache (--no-lazy), so it serves every
// command. The bundle ends with a build id, and the cache starts with it.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { build } from 'esbuild';
import { BUILD_ID_PREFIX } from '../cli/launch-id.js';

const BUNDLE = 'dist/tether.cjs';
// Externals: packages that find native files next to their own modules.
const external = ['lmdb', 'msgpackr', '@napi-rs/*'];

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  // The compiled modules find their neighbours (the native helper) from import.meta.url.
  define: { 'import.meta.url': '__tetherUrl' },
  banner: { js: "const __tetherUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
await build({
  entryPoints: ['dist/cli/launch.js'],
  outfile: 'dist/tether.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
});

const id = createHash('sha256').update(readFileSync(BUNDLE)).digest('hex').slice(0, 32);
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

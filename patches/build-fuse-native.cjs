// Installs tether's fixed fuse-native: applies the reviewed patch(es) in this folder with
// patch-package, then rebuilds the binding from source with node-gyp, so the locally built
// build/Release binary (which node-gyp-build loads before any prebuild) carries the fix.
//
// Why a rebuild and not the shipped prebuild: the fixes are in the C code (utimens, the
// caller's identity, 64-bit inodes, byte names), and the JavaScript half of the patch speaks
// the patched binary's layout. src/fuse/binding.ts refuses to mount with a stock binary.
//
// A failed build is a warning, not a failed install (as for tether's own native helper): the
// rest of tether works without a mount, and `tether mount` says what is missing.
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const fuseNative = path.join(root, 'node_modules', 'fuse-native');

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  return result.status === 0;
}

function warn(what) {
  console.warn(
    `tether: ${what}; the FUSE mount will not start (needs python3, make, a C compiler and ` +
      `the FUSE 2 library: Debian packages fuse3 and libfuse2). Everything else works.`,
  );
}

function main() {
  if (!fs.existsSync(path.join(fuseNative, 'package.json'))) return; // not installed (optional use)
  const patchPackage = path.join(root, 'node_modules', 'patch-package', 'index.js');
  if (!run(process.execPath, [patchPackage, '--error-on-fail'], root)) {
    warn('the fuse-native patch did not apply');
    return;
  }
  // npm tells its lifecycle scripts where its bundled node-gyp is; fall back to one on PATH.
  const gyp = process.env.npm_config_node_gyp;
  const ok = gyp
    ? run(process.execPath, [gyp, 'rebuild'], fuseNative)
    : run('node-gyp', ['rebuild'], fuseNative);
  if (!ok) warn('fuse-native was not rebuilt');
}

main();

// A fixture filesystem served from a process of its own (a process must never touch the mount
// it serves): `node serve.js FIXTURE ROOT MOUNTPOINT OPTIONS_JSON`. Prints "ready" once mounted
// and "write N" for each new largest write request; unmounts and exits on SIGTERM, SIGINT or
// when its stdin closes (its parent died), so no mount outlives the test that made it.
// Fixtures: passthrough, faulty (the passthrough failing reads of some files), synthetic, bare.
import { mount, type MountOptions, type Operations } from '../../src/fuse/binding.js';
import { passthrough } from './passthrough.js';
import { synthetic } from './synthetic.js';

const [fixture, root, mountpoint, json] = process.argv.slice(2);
if (fixture === undefined || root === undefined || mountpoint === undefined) {
  console.error('usage: serve.js passthrough|faulty|synthetic|bare ROOT MOUNTPOINT [OPTIONS_JSON]');
  process.exit(2);
}
const options = JSON.parse(json ?? '{}') as MountOptions;

// The kernel has applied the caller's umask to every mode it sends; ours must not apply again.
process.umask(0);

let largest = 0;
const onWrite = (len: number): void => {
  if (len > largest) {
    largest = len;
    process.stdout.write(`write ${len}\n`);
  }
};
/**
 * 'faulty': the passthrough, but a file whose name starts with `eio-` fails every read with
 * EIO, as a file on a failing disk does while the rest of the filesystem answers.
 */
function faulty(ops: Operations): Operations {
  const read = ops.read;
  return {
    ...ops,
    read(p, fd, buf, len, pos, cb, caller) {
      if (p !== null && p.slice(p.lastIndexOf('/') + 1).startsWith('eio-')) cb(-5);
      else read?.(p, fd, buf, len, pos, cb, caller);
    },
  };
}

// 'bare' implements nothing: what the binding answers on its own.
const ops: Operations =
  fixture === 'synthetic'
    ? synthetic()
    : fixture === 'bare'
      ? {}
      : fixture === 'faulty'
        ? faulty(passthrough(root, { onWrite }))
        : passthrough(root, { onWrite });

const mounted = await mount(mountpoint, ops, options);
process.stdout.write('ready\n');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  mounted.unmount().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(String(err));
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

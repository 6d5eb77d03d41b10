// A fixture filesystem served from a process of its own (a process must never touch the mount
// it serves) through tether's low-level binding: `node serve.js FIXTURE ROOT MOUNTPOINT
// OPTIONS_JSON`. Prints "ready" once mounted; unmounts and exits on SIGTERM, SIGINT or when its
// stdin closes (its parent died), so no mount outlives the test that made it.
// Fixtures: passthrough, faulty (the passthrough failing reads of some files), synthetic.
import { mountHandlers } from '../../src/fuse/mount.js';
import type { Operations } from '../../src/fuse/operations.js';
import type { FixtureOptions } from './harness.js';
import { passthrough } from './passthrough.js';
import { synthetic } from './synthetic.js';

const [fixture, root, mountpoint, json] = process.argv.slice(2);
if (fixture === undefined || root === undefined || mountpoint === undefined) {
  console.error('usage: serve.js passthrough|faulty|synthetic ROOT MOUNTPOINT [OPTIONS_JSON]');
  process.exit(2);
}
const options = JSON.parse(json ?? '{}') as FixtureOptions;

// The kernel has applied the caller's umask to every mode it sends; ours must not apply again.
process.umask(0);

/**
 * 'faulty': the passthrough, but a file whose name starts with `eio-` fails every read and
 * every chown with EIO, as a file on a failing disk does while the rest of the filesystem
 * answers. Its reads must reach these handlers, so the session thread is given no directory to
 * serve them from.
 */
function faulty(ops: Operations): Operations {
  const read = ops.read;
  const chown = ops.chown;
  const failing = (p: string | null): boolean =>
    p !== null && p.slice(p.lastIndexOf('/') + 1).startsWith('eio-');
  return {
    ...ops,
    read(p, fd, buf, len, pos, cb, caller) {
      if (failing(p)) cb(-5);
      else read?.(p, fd, buf, len, pos, cb, caller);
    },
    chown(p, uid, gid, cb, caller) {
      if (failing(p)) cb(-5);
      else if (chown !== undefined) chown(p, uid, gid, cb, caller);
      else cb(-38);
    },
  };
}

// The passthrough passes through to ROOT (the session thread serves its reads and writes); the
// synthetic filesystem has no directory behind it.
const passes = fixture === 'passthrough';
const ops: Operations =
  fixture === 'synthetic'
    ? synthetic()
    : fixture === 'faulty'
      ? faulty(passthrough(root))
      : passthrough(root);
const mounted = await mountHandlers(mountpoint, ops, {
  fsname: `tether-fixture-${fixture}`,
  allowOther: options.allowOther ?? false,
  ...(passes ? { root } : {}),
  ...(options.times === undefined ? {} : { times: options.times }),
});
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

// tether's low-level binding, proven through real mounts of the test fixtures (served by a
// child process; every command against a mount runs in a child with a deadline): exact times
// and UTIME_NOW/UTIME_OMIT, the caller's ownership and the kernel's permission checks, hard
// links as one node, 64-bit inode numbers and times past 32-bit seconds, byte names, cache
// lifetimes as asked, and a handler's errno as it was answered.
import test from 'ava';
import { lstatSync, readdirSync, readlinkSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import {
  mountFixture,
  sh,
  whyNoMount,
  type Fixture,
  type FixtureMount,
  type FixtureOptions,
} from './harness.js';
import { BIG_INO, NEW_MTIME_NS, OLD_MTIME_NS } from './synthetic.js';

const why = whyNoMount();
const serial = why === undefined ? test.serial : test.skip;
if (why !== undefined) test.skip(`FUSE binding tests: ${why}`, () => undefined);

const NOBODY = 65534;

async function withMount(
  t: { teardown(fn: () => Promise<void>): void },
  fixture: Fixture,
  options: FixtureOptions = {},
): Promise<FixtureMount> {
  const m = await mountFixture(fixture, options);
  t.teardown(() => m.unmount());
  return m;
}

/** Runs a shell script in the mount; fails the test with its stderr if it fails. */
async function inMount(m: FixtureMount, script: string, args: string[] = [], uid?: number) {
  const r = await sh(script, args, {
    cwd: m.dir,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  if (r.status !== 0) throw new Error(`${script}: ${r.timedOut ? 'timed out' : r.stderr}`);
  return r.stdout;
}

serial(
  'touch -m and touch -a set one time and keep the other, with fractions of a second',
  async (t) => {
    const m = await withMount(t, 'passthrough');
    const f = join(m.root, 'f');
    await inMount(m, 'touch -d @1000000000.5 f');
    await inMount(m, 'touch -m -d @1200000000.25 f');
    let s = statSync(f, { bigint: true });
    t.is(s.atimeNs, 1_000_000_000_500_000_000n, 'touch -m kept atime');
    t.is(s.mtimeNs, 1_200_000_000_250_000_000n, 'touch -m set mtime');
    await inMount(m, 'touch -a -d @1300000000.125 f');
    s = statSync(f, { bigint: true });
    t.is(s.atimeNs, 1_300_000_000_125_000_000n, 'touch -a set atime');
    t.is(s.mtimeNs, 1_200_000_000_250_000_000n, 'touch -a kept mtime');
    // No date: atime "now" (UTIME_NOW), mtime left alone (UTIME_OMIT).
    await inMount(m, 'touch -a f');
    s = statSync(f, { bigint: true });
    t.true(s.atimeNs > 1_700_000_000_000_000_000n, 'atime is now');
    t.is(s.mtimeNs, 1_200_000_000_250_000_000n);
    // The mount shows the times it was given, with their fractions.
    t.is((await inMount(m, 'stat -c %Y.%y f')).toString().trim().split('.')[0], '1200000000');
  },
);

serial('a file, directory and symlink created by uid 65534 are owned by it', async (t) => {
  const m = await withMount(t, 'passthrough', { allowOther: true });
  await inMount(m, 'mkdir pub && chmod 1777 pub');
  await inMount(m, 'echo x > pub/f && mkdir pub/d && ln -s f pub/l && mkfifo pub/p', [], NOBODY);
  for (const name of ['f', 'd', 'l', 'p']) {
    const s = lstatSync(join(m.root, 'pub', name));
    t.deepEqual([s.uid, s.gid], [NOBODY, NOBODY], name);
  }
  // And the kernel checks permissions as that user against the modes the mount reports.
  await inMount(m, 'echo secret > private && chmod 600 private');
  const r = await sh('cat private', [], { cwd: m.dir, uid: NOBODY, gid: NOBODY });
  t.not(r.status, 0);
  t.regex(r.stderr, /Permission denied/);
});

serial('hard links show one inode, the backing inode, in stat and readdir', async (t) => {
  const m = await withMount(t, 'passthrough');
  const out = await inMount(m, 'echo a > f && ln f g && stat -c %i f g && ls -i');
  const [f, g, ...listed] = out.toString().trim().split(/\s+/);
  const ino = String(statSync(join(m.root, 'f')).ino);
  t.is(f, ino);
  t.is(g, ino);
  t.deepEqual(listed, [ino, 'f', ino, 'g']);
});

serial('inode numbers above 2^32 and times before 1970 and after 2038 pass exactly', async (t) => {
  const m = await withMount(t, 'synthetic');
  const out = await inMount(m, 'stat -c "%i %Y" big-inode && stat -c %.9Y old new');
  const [ino, , old, late] = out.toString().trim().split(/\s+/);
  t.is(ino, String(BIG_INO));
  const asText = (ns: bigint): string => {
    const neg = ns < 0n;
    const abs = neg ? -ns : ns;
    return `${neg ? '-' : ''}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')}`;
  };
  t.is(old, asText(OLD_MTIME_NS));
  t.is(late, asText(NEW_MTIME_NS));
});

serial('names and symlink targets that are not UTF-8 round-trip byte for byte', async (t) => {
  const m = await withMount(t, 'passthrough');
  const name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff]); // "caf\xe9\xff": Latin-1, not UTF-8
  const target = Buffer.from([0xfe, 0x2f, 0x80, 0x41]);
  const listed = await inMount(
    m,
    'name=$(printf "caf\\351\\377"); echo x > "$name" && ln -s "$(printf "\\376/\\200A")" "$name.l" && ls && readlink "$name.l"',
  );
  const names = readdirSync(m.root, { encoding: 'buffer' }).map((b) => b.toString('hex'));
  t.deepEqual(
    names.sort(),
    [name.toString('hex'), Buffer.concat([name, Buffer.from('.l')]).toString('hex')].sort(),
  );
  const link = Buffer.concat([Buffer.from(m.root + '/'), name, Buffer.from('.l')]);
  t.is(readlinkSync(link, { encoding: 'buffer' }).toString('hex'), target.toString('hex'));
  const want = Buffer.concat([
    name,
    Buffer.from('\n'),
    name,
    Buffer.from('.l\n'),
    target,
    Buffer.from('\n'),
  ]);
  t.is(listed.toString('hex'), want.toString('hex'), 'ls and readlink through the mount');
});

serial(
  'zero cache lifetimes reach the kernel: a change behind the mount shows at once',
  async (t) => {
    const m = await withMount(t, 'passthrough', { times: { attr: 0, entry: 0, negative: 0 } });
    await inMount(m, 'echo a > f && stat -c %a f');
    chmodSync(join(m.root, 'f'), 0o600);
    t.is((await inMount(m, 'stat -c %a f')).toString().trim(), '600');
  },
);

serial('an errno a handler answers reaches the caller as it was answered', async (t) => {
  // The synthetic fixture answers ENOSYS to everything but getattr and readdir.
  const m = await withMount(t, 'synthetic');
  const r = await sh('mkdir x', [], { cwd: m.dir });
  t.not(r.status, 0);
  t.regex(r.stderr, /Function not implemented/);
});

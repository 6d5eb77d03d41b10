// `tether snapshot restore` of a plain directory's snapshot, with the native writer (contents
// verified and written on its threads) and without it (TETHER_NATIVE=0): every kind of file
// comes back with its content, mode, times and xattrs, in several batches, small contents (in
// LMDB) and larger ones (blob files, streamed ones), and the round trip diffs equal; content
// that does not match its id is refused (ECORRUPT) and never written under the file's name,
// even where the stored bytes outgrow a batch; a restore that meets a content missing from the
// store, after writing others, removes what it wrote and names the files missing; a restore
// killed with -9 leaves every file under a real name whole; names that are not ASCII, or not
// UTF-8, come back byte for byte.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { hashBytes } from '../../src/tree/index.js';
import { MAIN, tempDir, tether } from './run.js';

const WRITERS = [
  { name: 'native writer', env: { ...process.env }, native: true },
  { name: 'without the native addon', env: { ...process.env, TETHER_NATIVE: '0' }, native: false },
];

const T0 = Math.floor(Date.now() / 1000) - 600;
/** A content unique to `i` of `size` bytes. */
const bytesOf = (i: number, size: number): Buffer => {
  const b = Buffer.alloc(size + 3);
  for (let k = 0; k < size; k += 4) b.writeUInt32LE((i * 2654435761 + k * 40503) >>> 0, k);
  return b.subarray(0, size);
};

/** Files: small ones across batches, blob files (64 KiB to 1 MiB), a streamed one, an empty one. */
function makeTree(root: string, before1970: boolean): Map<string, { bytes: Buffer; mode: number }> {
  const files = new Map<string, { bytes: Buffer; mode: number }>();
  const modes = [0o644, 0o600, 0o751, 0o400, 0o664];
  for (let i = 0; i < 700; i++) {
    const dir = `d${i % 7}`;
    mkdirSync(join(root, dir), { recursive: true });
    const size = i % 50 === 0 ? 70_000 + i * 100 : 1 + ((i * 137) % 9000);
    files.set(`${dir}/f${i}`, { bytes: bytesOf(i, size), mode: modes[i % modes.length]! });
  }
  files.set('big', { bytes: bytesOf(9999, 1_500_000), mode: 0o640 });
  files.set('empty', { bytes: Buffer.alloc(0), mode: 0o644 });
  for (const [p, f] of files) {
    writeFileSync(join(root, p), f.bytes);
    chmodSync(join(root, p), f.mode);
  }
  writeFileSync(join(root, 'tagged'), 'with an xattr\n');
  files.set('tagged', { bytes: Buffer.from('with an xattr\n'), mode: 0o644 });
  symlinkSync('d0/f0', join(root, 'link'));
  let s = 0;
  for (const p of files.keys()) utimesSync(join(root, p), T0 + s, T0 + (s++ % 1000) + 0.123456);
  // Before 1970, with a fraction: whole seconds round down, nanoseconds stay positive. Only
  // for the native writer: Node's utimes turns such a time into a wrong one.
  if (before1970) spawnSync('touch', ['-d', '1969-06-01 00:00:00.25 UTC', join(root, 'empty')]);
  for (let d = 0; d < 7; d++) utimesSync(join(root, `d${d}`), T0, T0);
  return files;
}

const setXattr = (path: string): boolean =>
  spawnSync('setfattr', ['-n', 'user.note', '-v', 'kept', path]).status === 0;
const getXattr = (path: string): string =>
  String(spawnSync('getfattr', ['--only-values', '-n', 'user.note', path]).stdout);

/** The store's LMDB environment and its small blobs' database, opened directly. */
function blobsOf(store: string) {
  const env = openLmdb({ path: join(store, 'db'), maxDbs: 64 });
  const blobs = env.openDB<Buffer, Buffer>('o:blobs', {
    keyEncoding: 'binary',
    encoding: 'binary',
  });
  return { env, blobs };
}

for (const w of WRITERS) {
  test(`restore (${w.name}) writes contents, modes and times, and the round trip diffs equal`, (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    const src = join(dir, 'src');
    const store = join(dir, 'store');
    const files = makeTree(src, w.native);
    const tagged = setXattr(join(src, 'tagged'));
    const took = tether(['snapshot', 'take', 'v1', '--of', src, '--store', store]);
    t.is(took.status, 0, took.stderr);
    const out = join(dir, 'out');
    const r = tether(['snapshot', 'restore', 'v1', out, '--store', store, '--json'], {
      env: w.env,
    });
    t.is(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { files: number; bytes: number };
    t.is(result.files, files.size);
    t.is(
      result.bytes,
      [...files.values()].reduce((n, f) => n + f.bytes.length, 0),
    );
    for (const [p, f] of files) {
      t.true(readFileSync(join(out, p)).equals(f.bytes), `${p}: content`);
      const got = statSync(join(out, p), { bigint: true });
      const want = statSync(join(src, p), { bigint: true });
      t.is(Number(got.mode) & 0o7777, f.mode, `${p}: mode`);
      t.is(got.mtimeNs, want.mtimeNs, `${p}: mtime`);
    }
    if (tagged) t.is(getXattr(join(out, 'tagged')), 'kept');
    if (w.native) {
      t.true(statSync(join(out, 'empty'), { bigint: true }).mtimeNs < 0n, 'a time before 1970');
    }
    t.true(lstatSync(join(out, 'link')).isSymbolicLink());
    t.is(readlinkSync(join(out, 'link')), 'd0/f0');
    const back = tether(['diff', 'v1', out, '--store', store]);
    t.is(back.status, 0, back.stdout + back.stderr);
  });

  test(`restore (${w.name}) refuses content that does not match its id and never writes it`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    const src = join(dir, 'src');
    const store = join(dir, 'store');
    mkdirSync(join(src, 'a'), { recursive: true });
    const small = Buffer.from('small content\n');
    const large = bytesOf(1, 200_000);
    for (let i = 0; i < 40; i++) writeFileSync(join(src, 'a', `ok${i}`), `fine ${i}\n`);
    const took = (): void => {
      const r = tether(['snapshot', 'take', 'v1', '--of', src, '--store', store]);
      t.is(r.status, 0, r.stderr);
    };
    // One damaged content a run: the small one (a record in LMDB), then the large (a file).
    writeFileSync(join(src, 'a', 'small'), small);
    writeFileSync(join(src, 'large'), large);
    took();
    const { env, blobs } = blobsOf(store);
    const original = blobs.getBinary(Buffer.from(hashBytes(small), 'hex'));
    t.truthy(original);
    await blobs.put(Buffer.from(hashBytes(small), 'hex'), Buffer.from('tampered!\n'));
    await env.close();

    const out1 = join(dir, 'out1');
    const r1 = tether(['snapshot', 'restore', 'v1', out1, '--store', store], { env: w.env });
    t.not(r1.status, 0);
    t.regex(r1.stderr, /does not match its hash/);
    t.false(existsSync(join(out1, 'a', 'small')), 'the damaged small content is not written');

    const env2 = openLmdb({ path: join(store, 'db'), maxDbs: 64 });
    const blobs2 = env2.openDB<Buffer, Buffer>('o:blobs', {
      keyEncoding: 'binary',
      encoding: 'binary',
    });
    await blobs2.put(Buffer.from(hashBytes(small), 'hex'), original!);
    await env2.close();
    const id = hashBytes(large);
    const path = join(store, 'blobs', id.slice(0, 2), id.slice(2));
    chmodSync(path, 0o600);
    const flipped = Buffer.from(large);
    flipped[123_456] = flipped[123_456]! ^ 1;
    writeFileSync(path, flipped);

    const out2 = join(dir, 'out2');
    const r2 = tether(['snapshot', 'restore', 'v1', out2, '--store', store], { env: w.env });
    t.not(r2.status, 0);
    t.regex(r2.stderr, /does not match its hash/);
    t.false(existsSync(join(out2, 'large')), 'the damaged blob file is not written');
  });
}

for (const w of WRITERS) {
  // Stored bytes larger than a batch's buffer (4 MiB) take a buffer of their own, and are
  // refused all the same.
  test(`restore (${w.name}) refuses a small content whose stored bytes outgrow a batch`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    const src = join(dir, 'src');
    const store = join(dir, 'store');
    mkdirSync(join(src, 'a'), { recursive: true });
    const small = Buffer.from('small content\n');
    for (let i = 0; i < 40; i++) writeFileSync(join(src, 'a', `ok${i}`), `fine ${i}\n`);
    writeFileSync(join(src, 'a', 'small'), small);
    const took = tether(['snapshot', 'take', 'v1', '--of', src, '--store', store]);
    t.is(took.status, 0, took.stderr);
    const { env, blobs } = blobsOf(store);
    await blobs.put(Buffer.from(hashBytes(small), 'hex'), bytesOf(7, 5 << 20));
    await env.close();
    const out = join(dir, 'out');
    const r = tether(['snapshot', 'restore', 'v1', out, '--store', store], { env: w.env });
    t.not(r.status, 0);
    t.regex(r.stderr, /does not match its hash/);
    t.false(existsSync(join(out, 'a', 'small')), 'the damaged content is not written');
  });

  test(`restore (${w.name}) that meets a missing content removes what it wrote`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    const src = join(dir, 'src');
    const store = join(dir, 'store');
    // The files missing come last (names are written in byte order): many are written first.
    mkdirSync(join(src, 'a'), { recursive: true });
    mkdirSync(join(src, 'z'), { recursive: true });
    for (let i = 0; i < 600; i++) writeFileSync(join(src, 'a', `f${i}`), bytesOf(i, 1 + i * 13));
    const small = bytesOf(7001, 3000);
    const large = bytesOf(7002, 200_000);
    writeFileSync(join(src, 'z', 'small'), small);
    writeFileSync(join(src, 'z', 'large'), large);
    const took = tether(['snapshot', 'take', 'v1', '--of', src, '--store', store]);
    t.is(took.status, 0, took.stderr);
    // Gone from the store: the small content's LMDB record, the large one's blob file.
    const { env, blobs } = blobsOf(store);
    t.true(await blobs.remove(Buffer.from(hashBytes(small), 'hex')));
    await env.close();
    const id = hashBytes(large);
    rmSync(join(store, 'blobs', id.slice(0, 2), id.slice(2)));

    const fresh = join(dir, 'fresh');
    const r1 = tether(['snapshot', 'restore', 'v1', fresh, '--store', store], { env: w.env });
    t.is(r1.status, 1, r1.stderr);
    t.regex(r1.stderr, /2 files of the snapshot have no content in the store/);
    t.regex(r1.stderr, /z\/large/);
    t.regex(r1.stderr, /z\/small/);
    t.false(existsSync(fresh), 'the directory it made is gone');

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r2 = tether(['snapshot', 'restore', 'v1', empty, '--store', store], { env: w.env });
    t.is(r2.status, 1, r2.stderr);
    t.deepEqual(readdirSync(empty), [], 'the empty directory is empty again');
  });
}

/** Every regular file under `dir`, relative. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(...filesUnder(dir, p));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

for (const w of WRITERS) {
  test.serial(
    `restore (${w.name}) killed with -9 leaves no part of a file under a real name`,
    async (t) => {
      const { dir, cleanup } = tempDir();
      t.teardown(cleanup);
      const src = join(dir, 'src');
      const store = join(dir, 'store');
      // Many files (the native writer is fast: the kill must find it writing), a few large. Serial:
      // another test's synchronous work would hold up the polling below.
      for (let d = 0; d < 20; d++) mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let i = 0; i < 6000; i++) {
        const size = i % 1000 === 0 ? 300_000 : 1 + ((i * 7919) % 300);
        writeFileSync(join(src, `d${i % 20}`, `f${i}`), bytesOf(i, size));
      }
      const took = tether(['snapshot', 'take', 'v1', '--of', src, '--store', store]);
      t.is(took.status, 0, took.stderr);
      const out = join(dir, 'out');
      const child = spawn(
        process.execPath,
        [MAIN, 'snapshot', 'restore', 'v1', out, '--store', store],
        {
          env: w.env,
          stdio: 'ignore',
        },
      );
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // Killed once files are being written (or when it is done, if it was faster than the poll).
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && child.exitCode === null) {
        if (existsSync(join(out, 'd19')) && readdirSync(join(out, 'd0')).length > 0) break;
        await new Promise((r) => setTimeout(r, 1));
      }
      child.kill('SIGKILL');
      await exited;
      let whole = 0;
      for (const p of filesUnder(out)) {
        const name = p.slice(p.lastIndexOf('/') + 1);
        if (name.startsWith('.tether-restore-')) continue;
        t.true(readFileSync(join(out, p)).equals(readFileSync(join(src, p))), `${p} is whole`);
        whole++;
      }
      t.log(`${whole} files whole when killed`);
    },
  );
}

for (const w of WRITERS) {
  test(`restore (${w.name}) keeps names byte for byte: UTF-8, and bytes that are not`, (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    const src = join(dir, 'src');
    const store = join(dir, 'store');
    const notUtf8 = Buffer.of(0x66, 0xff, 0xfe);
    const sub = Buffer.concat([Buffer.from(`${src}/`), notUtf8]);
    mkdirSync(sub, { recursive: true });
    // Small (in LMDB) and larger (a blob file) contents, in the directory with such a name too.
    const files: [Buffer, Buffer][] = [
      [Buffer.from(`${src}/é-ü`), bytesOf(1, 10)],
      [Buffer.from(`${src}/日本`), bytesOf(2, 70_000)],
      [Buffer.concat([sub, Buffer.from('/'), notUtf8]), bytesOf(3, 20)],
      [Buffer.concat([sub, Buffer.from('/ñ')]), bytesOf(4, 80_000)],
    ];
    for (const [p, bytes] of files) writeFileSync(p, bytes);
    const took = tether(['snapshot', 'take', 'v1', '--of', src, '--store', store]);
    t.is(took.status, 0, took.stderr);
    const out = join(dir, 'out-ñ');
    const r = tether(['snapshot', 'restore', 'v1', out, '--store', store], { env: w.env });
    t.is(r.status, 0, r.stderr);
    for (const [p, bytes] of files) {
      const there = Buffer.concat([Buffer.from(out), p.subarray(Buffer.byteLength(src))]);
      t.true(readFileSync(there).equals(bytes), `${p.toString()}: content`);
    }
    const outSub = Buffer.concat([Buffer.from(`${out}/`), notUtf8]);
    t.deepEqual(
      readdirSync(outSub, { encoding: 'buffer' })
        .map((n) => n.toString('hex'))
        .sort(),
      [notUtf8.toString('hex'), Buffer.from('ñ').toString('hex')].sort(),
    );
  });
}

// What a directory replica writes carries the entry's metadata: put (a copy from another
// replica), putData (bytes) and writeContent (a merge) give the new file its mode (whether or
// not the umask would leave it whole, set-id bits included), its owner, its user xattrs and
// its mtime, set on the open file before its fsync; a copy that ends in a hole keeps its size.
import test from 'ava';
import { lstatSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirReplica } from '../../src/replica/dir.js';
import { readXattrs, setXattrs } from '../../src/scan/xattrs.js';
import { byteString, type Entry, type Xattr } from '../../src/tree/index.js';
import { dirPair } from './pair.js';

const MTIME = 1_700_000_000;
const AS_ROOT = process.getuid?.() === 0;
const XATTRS: Xattr[] = [[byteString(Buffer.from('user.tether-test')), Buffer.from('value')]];

async function entryAt(r: DirReplica, path: string): Promise<Entry> {
  const e = await r.entry(path);
  if (e === undefined) throw new Error(`nothing at ${path}`);
  return e;
}

/** The metadata `entry` asks for, as read back from the file at `file`. */
async function metaOf(file: string): Promise<{ mode: number; mtimeNs: bigint; xattrs: unknown }> {
  const st = lstatSync(file, { bigint: true });
  return {
    mode: Number(st.mode) & 0o7777,
    mtimeNs: st.mtimeNs,
    xattrs: await readXattrs(Buffer.from(file)),
  };
}

// 0o640 is whole under the usual umask (created with it, no chmod), 0o666 and 0o4755 are not.
for (const mode of [0o640, 0o666, 0o4755]) {
  test(`put, putData and writeContent give the file mode ${mode.toString(8)}, xattrs and mtime`, async (t) => {
    const { local, server, localDir, serverDir } = dirPair(t, 'written-meta');
    const src = join(localDir, 'f');
    writeFileSync(src, 'hello\n');
    await setXattrs(Buffer.from(src), XATTRS);
    utimesSync(src, MTIME, MTIME);
    const e = { ...(await entryAt(local, 'f')), mode, xattrs: XATTRS };
    const want = { mode, mtimeNs: BigInt(MTIME) * 1_000_000_000n, xattrs: XATTRS };

    const put = await server.put('f', null, e, local, 'f');
    t.true(put.ok, JSON.stringify(put));
    t.deepEqual(await metaOf(join(serverDir, 'f')), want);
    t.is(readFileSync(join(serverDir, 'f'), 'utf8'), 'hello\n');

    const data = await server.putData('g', null, { ...e, name: 'g' }, Buffer.from('bytes\n'));
    t.true(data.ok, JSON.stringify(data));
    t.deepEqual(await metaOf(join(serverDir, 'g')), want);

    const have = await entryAt(server, 'g');
    const merged = await server.writeContent(
      'g',
      { ...have, xattrs: XATTRS },
      Buffer.from('merged\n'),
      BigInt(MTIME + 5) * 1_000_000_000n,
    );
    t.true(merged.ok, JSON.stringify(merged));
    t.deepEqual(await metaOf(join(serverDir, 'g')), {
      ...want,
      mtimeNs: BigInt(MTIME + 5) * 1_000_000_000n,
    });
    t.is(readFileSync(join(serverDir, 'g'), 'utf8'), 'merged\n');
  });
}

test('put gives a new file its recorded owner (as root)', async (t) => {
  if (!AS_ROOT) {
    t.pass('owners are set only as root');
    return;
  }
  const { local, server, localDir, serverDir } = dirPair(t, 'written-meta');
  writeFileSync(join(localDir, 'f'), 'hello\n');
  const e = { ...(await entryAt(local, 'f')), mode: 0o2755, uid: 4321, gid: 4322 };
  const put = await server.put('f', null, e, local, 'f');
  t.true(put.ok, JSON.stringify(put));
  const st = lstatSync(join(serverDir, 'f'));
  t.deepEqual([st.uid, st.gid, st.mode & 0o7777], [4321, 4322, 0o2755]);
});

test('a copy of a file that ends in a hole has its size and its bytes', async (t) => {
  const { local, server, localDir, serverDir } = dirPair(t, 'written-meta');
  const src = join(localDir, 'sparse');
  writeFileSync(src, Buffer.alloc(200 << 10, 7)); // more than one first read
  truncateSync(src, 8 << 20);
  const e = await entryAt(local, 'sparse');
  const put = await server.put('sparse', null, e, local, 'sparse');
  t.true(put.ok, JSON.stringify(put));
  const copy = readFileSync(join(serverDir, 'sparse'));
  t.is(copy.length, 8 << 20);
  t.true(copy.equals(readFileSync(src)));
});

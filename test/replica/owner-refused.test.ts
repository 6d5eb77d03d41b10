// A directory replica on a server that will not let us choose owners (a share logged in as
// another user, NFS with root_squash): the server's refusal is played by replacing the owner
// calls, since root on a local disk is never refused. A refused owner is no failure: the file
// is written with the owner it gets. Any failure of a write leaves no temporary file behind.
import test from 'ava';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirReplica } from '../../src/replica/dir.js';
import { ownerCalls } from '../../src/replica/owner.js';
import type { Entry } from '../../src/tree/index.js';
import { dirPair } from './pair.js';

const refuse = (code: string) => (): Promise<void> =>
  Promise.reject(Object.assign(new Error(`${code}: refused`), { code, syscall: 'chown' }));

async function fileIn(r: DirReplica, dir: string, name: string, data: string): Promise<Entry> {
  writeFileSync(join(dir, name), data);
  utimesSync(join(dir, name), 1_700_000_000, 1_700_000_000);
  const e = await r.entry(name);
  if (e === undefined) throw new Error(`nothing at ${name}`);
  return e;
}

const temps = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.tether-'));

const real = { ...ownerCalls };
test.afterEach.always(() => {
  Object.assign(ownerCalls, real);
});

/** The server refuses every owner change, by path or by open file. */
function refuseAll(code: string): void {
  ownerCalls.lchown = refuse(code);
  ownerCalls.fchown = refuse(code);
}

for (const code of ['EPERM', 'EACCES', 'ENOTSUP']) {
  test.serial(
    `put and putData write the file when the server refuses its owner (${code})`,
    async (t) => {
      const { local, server, serverDir } = dirPair(t, 'owner');
      const localDir = local.root.toString();
      const e = { ...(await fileIn(local, localDir, 'f.txt', 'hello\n')), uid: 4321, gid: 4321 };
      refuseAll(code);
      const put = await server.put('f.txt', null, e, local, 'f.txt');
      t.true(put.ok, JSON.stringify(put));
      t.is(readFileSync(join(serverDir, 'f.txt'), 'utf8'), 'hello\n');
      t.is(statSync(join(serverDir, 'f.txt')).uid, process.getuid?.() ?? 0); // the owner it got
      const data = await server.putData(
        'g.txt',
        null,
        { ...e, name: 'g.txt' },
        Buffer.from('hello\n'),
      );
      t.true(data.ok, JSON.stringify(data));
      const have = await server.entry('f.txt');
      if (have === undefined) throw new Error('f.txt is gone');
      const meta = await server.setmeta('f.txt', have, { ...have, uid: 4321 }, ['uid']);
      t.true(meta.ok, JSON.stringify(meta));
      t.deepEqual(temps(serverDir), []);
    },
  );
}

test.serial('a put that fails for another reason leaves no temporary file', async (t) => {
  const { local, server, serverDir } = dirPair(t, 'owner');
  const localDir = local.root.toString();
  const e = { ...(await fileIn(local, localDir, 'f.txt', 'hello\n')), uid: 4321, gid: 4321 };
  refuseAll('EIO');
  await t.throwsAsync(server.put('f.txt', null, e, local, 'f.txt'), { message: /EIO/ });
  await t.throwsAsync(server.putData('g.txt', null, e, Buffer.from('x')), { message: /EIO/ });
  t.deepEqual(temps(serverDir), []);
  t.deepEqual(readdirSync(serverDir), []);
});

// User xattrs travel with their files, whatever the bytes of the file's name: set on one
// side, changed, and removed, they arrive on the other side the same.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../src/scan/native.js';
import { readXattrsSync, setXattrs } from '../../src/scan/xattrs.js';
import { tempDir, tether } from '../cli/run.js';

const bytes = (...parts: string[]): Buffer => Buffer.from(join(...parts), 'latin1');
const text = (p: Buffer): [string, string][] | undefined =>
  readXattrsSync(p)?.map(([n, v]) => [n, v.toString('latin1')]);

test('xattrs are read and written by byte path, names and values as bytes', async (t) => {
  t.not(native, undefined, 'build the native helper with "npm run build:native"');
  const tmp = tempDir();
  try {
    const p = bytes(tmp.dir, 'caf\xe9');
    writeFileSync(p, 'x');
    await setXattrs(p, [
      ['user.b', Buffer.from('two')],
      ['user.a\xff', Buffer.from([0, 255])],
    ]);
    t.deepEqual(text(p), [
      ['user.a\xff', '\x00\xff'],
      ['user.b', 'two'],
    ]);
    await setXattrs(p, [['user.b', Buffer.from('2')]]);
    t.deepEqual(text(p), [['user.b', '2']]);
    await setXattrs(p, undefined);
    t.is(readXattrsSync(p), undefined);
  } finally {
    tmp.cleanup();
  }
});

test('sync-dirs carries xattrs both ways, also on files whose names are not UTF-8', async (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'plain.txt'), 'plain');
    writeFileSync(bytes(a, 'caf\xe9.txt'), 'latin-1 name');
    writeFileSync(join(b, 'server.txt'), 'a server with something on it');
    const sync = (): number => {
      const r = tether(['sync-dirs', a, b, '--store', join(tmp.dir, 's'), '--initial']);
      if (r.status !== 0) t.log(r.stdout, r.stderr);
      return r.status;
    };
    t.is(sync(), 0);
    await setXattrs(bytes(a, 'plain.txt'), [['user.colour', Buffer.from('blue')]]);
    await setXattrs(bytes(a, 'caf\xe9.txt'), [['user.tag', Buffer.from('\xe9', 'latin1')]]);
    t.is(sync(), 0);
    t.deepEqual(text(bytes(b, 'plain.txt')), [['user.colour', 'blue']]);
    t.deepEqual(text(bytes(b, 'caf\xe9.txt')), [['user.tag', '\xe9']]);
    // Changed and removed on the server side: the local side follows.
    await setXattrs(bytes(b, 'plain.txt'), [['user.colour', Buffer.from('green')]]);
    await setXattrs(bytes(b, 'caf\xe9.txt'), undefined);
    t.is(sync(), 0);
    t.deepEqual(text(bytes(a, 'plain.txt')), [['user.colour', 'green']]);
    t.is(readXattrsSync(bytes(a, 'caf\xe9.txt')), undefined);
  } finally {
    tmp.cleanup();
  }
});

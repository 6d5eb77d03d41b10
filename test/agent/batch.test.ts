// Small files copied many per agent request (volume/batch-copy.ts, volume/whole-batches.ts):
// each file has its own outcome, and only a request cut as a whole fails all of its files.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentCallError } from '../../src/agent/client.js';
import { codeOf } from '../../src/agent/serve.js';
import { Store } from '../../src/store/store.js';
import { hashBytes } from '../../src/tree/index.js';
import { copyBatch, type BatchFile, type BatchResult } from '../../src/volume/batch-copy.js';
import { WholeBatches } from '../../src/volume/whole-batches.js';

const failed = (err: unknown): BatchResult => ({
  code: codeOf(err),
  message: (err as Error).message,
});

test('a batch copies every file it can; a missing one is that file’s failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-batch-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const remote = join(dir, 'remote');
  const local = join(dir, 'local');
  mkdirSync(remote);
  mkdirSync(local);
  const files: BatchFile[] = [];
  for (let i = 0; i < 40; i++) {
    writeFileSync(join(remote, `f${i}`), `content ${i}\n`);
    // The placeholder: a sparse file of another size.
    writeFileSync(join(local, `f${i}`), Buffer.alloc(3));
    files.push({ path: `f${i}`, max: 1 << 20 });
  }
  writeFileSync(join(local, 'gone'), Buffer.alloc(3));
  files.splice(7, 0, { path: 'gone', max: 1 << 20 });
  writeFileSync(join(remote, 'big'), Buffer.alloc(5000, 1));
  writeFileSync(join(local, 'big'), Buffer.alloc(3));
  files.push({ path: 'big', max: 4096 });
  writeFileSync(join(remote, 'origin'), 'from elsewhere\n');
  writeFileSync(join(local, 'renamed'), Buffer.alloc(3));
  files.push({ path: 'renamed', from: 'origin', max: 1 << 20 });

  let reports = 0;
  const r = await copyBatch(Buffer.from(remote), Buffer.from(local), files, failed, {
    progress: () => {
      reports++;
    },
  });
  t.is(r.length, files.length);
  t.true(reports > 0);
  t.like(r[7], { code: 'ENOENT' });
  t.is(readFileSync(join(local, 'gone')).length, 3, 'nothing written for it');
  for (let i = 0; i < 40; i++) {
    const at = i < 7 ? i : i + 1;
    t.like(r[at], { copied: true, stamp: { size: `content ${i}\n`.length } });
    t.is(readFileSync(join(local, `f${i}`), 'utf8'), `content ${i}\n`);
    const mtimes = [local, remote].map((d) => statSync(join(d, `f${i}`)).mtimeMs);
    t.true(Math.abs(mtimes[0]! - mtimes[1]!) < 0.01, 'the server file’s mtime');
  }
  t.like(r[41], { copied: false, stamp: { size: 5000 } }, 'too large: left to ranges');
  t.is(readFileSync(join(local, 'big')).length, 3);
  t.like(r[42], { copied: true });
  t.is(readFileSync(join(local, 'renamed'), 'utf8'), 'from elsewhere\n');
});

test('a batch with a store keeps each file copied as a blob, its id the content’s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-batch-'));
  const store = await Store.create(join(dir, 'store'));
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const remote = join(dir, 'remote');
  const local = join(dir, 'local');
  mkdirSync(remote);
  mkdirSync(local);
  // Small ones (stored in LMDB), one large enough for a blob file, an empty one, one too large.
  const contents = [
    ...Array.from({ length: 9 }, (_, i) => Buffer.from(`kept ${i}\n`.repeat(i * 7))),
    Buffer.alloc(150_000, 'large '),
    Buffer.alloc(5000, 1),
  ];
  const files: BatchFile[] = contents.map((c, i) => {
    writeFileSync(join(remote, `f${i}`), c);
    writeFileSync(join(local, `f${i}`), Buffer.alloc(3));
    return { path: `f${i}`, max: i === 10 ? 4096 : 1 << 20 };
  });
  const r = await copyBatch(Buffer.from(remote), Buffer.from(local), files, failed, {
    keep: (bytes) => store.putBlob(bytes),
  });
  await store.flush();
  for (let i = 0; i < 10; i++) {
    const want = contents[i]!;
    t.deepEqual(readFileSync(join(local, `f${i}`)), want);
    const id = (r[i] as { id?: string }).id;
    t.is(id, hashBytes(want), `f${i}: the id of its content`);
    t.deepEqual(await store.readBlob(id!), want, `f${i}: its bytes in the store`);
  }
  t.like(r[10], { copied: false });
  t.false('id' in r[10]!, 'nothing copied, nothing kept');
});

test('waiting requests leave together, each answered with its own result', async (t) => {
  const sent: string[][] = [];
  let release!: () => void;
  const first = new Promise<void>((r) => (release = r));
  const b = new WholeBatches(
    async (files) => {
      sent.push(files.map((f) => f.path));
      if (sent.length === 1) await first;
      return files.map((f): BatchResult =>
        f.path.startsWith('bad')
          ? { code: 'EACCES', message: 'denied' }
          : { stamp: { size: f.path.length, mtimeNs: 1n }, copied: true },
      );
    },
    4,
    1,
  );
  const all = ['a', 'bb', 'bad1', 'ccc', 'dddd', 'e', 'bad2'].map((p) =>
    b.whole(p, 100).then(
      (w) => w.stamp.size,
      (err: unknown) => err,
    ),
  );
  await new Promise((r) => setImmediate(r));
  release();
  const got = await Promise.all(all);
  t.deepEqual(sent, [
    ['a', 'bb', 'bad1', 'ccc'],
    ['dddd', 'e', 'bad2'],
  ]);
  t.deepEqual(got.slice(0, 2), [1, 2]);
  t.true(got[2] instanceof AgentCallError);
  t.is((got[2] as AgentCallError).remoteCode, 'EACCES');
  t.false((got[2] as AgentCallError).cut, 'answered: judged as one file’s failure may be');
  t.deepEqual(got.slice(3, 6), [3, 4, 1]);
  t.is((got[6] as AgentCallError).remoteCode, 'EACCES');
});

test('a request cut as a whole fails every file it carried, and the next ones still go', async (t) => {
  let calls = 0;
  const b = new WholeBatches(async (files) => {
    calls++;
    if (calls === 1) throw new AgentCallError('ETIMEDOUT', 'copyBatch: no answer', true, true);
    return files.map(() => ({ stamp: { size: 1, mtimeNs: 1n }, copied: true }));
  });
  const cut = await Promise.allSettled([b.whole('a', 9), b.whole('b', 9)]);
  t.deepEqual(
    cut.map((c) => c.status === 'rejected' && (c.reason as AgentCallError).cut),
    [true, true],
  );
  t.like(await b.whole('c', 9), { copied: true });
});

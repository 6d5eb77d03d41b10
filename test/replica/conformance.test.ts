// One contract, every replica: the directory replica and the in-memory one answer the same
// guarded calls the same way (done, already done, or a per-path problem instead of an
// overwrite; MERGE.md invariants 7 and 9), and a copy crosses between the two kinds through
// the source's content, never its path.
import test from 'ava';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirReplica } from '../../src/replica/dir.js';
import { MemoryReplica } from '../../src/replica/memory.js';
import type { Replica } from '../../src/replica/replica.js';
import { runAction } from '../../src/sync/apply.js';
import { hashBytes, type Entry } from '../../src/tree/index.js';
import { tempDir } from '../cli/run.js';

/** A replica under test, with the user's hand on it (writes that bypass the guarded calls). */
interface Subject {
  readonly replica: Replica;
  readonly writeFile: (path: string, data: string, mtimeSec?: number) => void;
  readonly mkdirs: (path: string) => void;
  readonly content: (path: string) => string | undefined;
  readonly cleanup: () => void;
}

const MTIME = 1_700_000_000;

function dirSubject(label: string): Subject {
  const tmp = tempDir('ports-replica-');
  const at = (p: string): string => join(tmp.dir, p);
  return {
    replica: new DirReplica(tmp.dir, label),
    writeFile: (p, data, mtimeSec = MTIME) => {
      writeFileSync(at(p), data);
      utimesSync(at(p), mtimeSec, mtimeSec);
    },
    mkdirs: (p) => mkdirSync(at(p), { recursive: true }),
    content: (p) => {
      try {
        return readFileSync(at(p), 'utf8');
      } catch {
        return undefined;
      }
    },
    cleanup: tmp.cleanup,
  };
}

function memorySubject(label: string): Subject {
  const r = new MemoryReplica(label);
  return {
    replica: r,
    writeFile: (p, data, mtimeSec = MTIME) => {
      r.writeFile(p, data, { mtimeNs: BigInt(mtimeSec) * 1_000_000_000n });
    },
    mkdirs: (p) => {
      r.mkdirs(p);
    },
    content: (p) => r.content(p)?.toString('utf8'),
    cleanup: () => undefined,
  };
}

const KINDS = { dir: dirSubject, memory: memorySubject } as const;
type KindName = keyof typeof KINDS;

async function entryOf(s: Subject, path: string): Promise<Entry> {
  const e = await s.replica.entry(path);
  if (e === undefined) throw new Error(`nothing at ${path}`);
  return e;
}

function pair(target: KindName, source: KindName): { t: Subject; s: Subject; done: () => void } {
  const t = KINDS[target]('local');
  const s = KINDS[source]('server');
  return {
    t,
    s,
    done: () => {
      t.cleanup();
      s.cleanup();
    },
  };
}

for (const kind of Object.keys(KINDS) as KindName[]) {
  const other: KindName = kind === 'dir' ? 'memory' : 'dir';

  for (const from of [kind, other]) {
    test(`${kind}: put copies a file from a ${from} replica, then answers already`, async (t) => {
      const { t: target, s: source, done } = pair(kind, from);
      t.teardown(done);
      source.writeFile('f.txt', 'hello\n');
      const e = await entryOf(source, 'f.txt');
      const out = await target.replica.put('f.txt', null, e, source.replica, 'f.txt');
      t.deepEqual(out, { ok: true, already: false, id: hashBytes(Buffer.from('hello\n')) });
      t.is(target.content('f.txt'), 'hello\n');
      t.is((await entryOf(target, 'f.txt')).mtimeNs, e.mtimeNs);
      const again = await target.replica.put('f.txt', null, e, source.replica, 'f.txt');
      t.true(again.ok && again.already);
    });
  }

  test(`${kind}: put never overwrites what appeared since the scan`, async (t) => {
    const { t: target, s: source, done } = pair(kind, other);
    t.teardown(done);
    source.writeFile('f.txt', 'theirs\n');
    target.writeFile('f.txt', 'mine, written after the scan\n');
    const e = await entryOf(source, 'f.txt');
    const out = await target.replica.put('f.txt', null, e, source.replica, 'f.txt');
    t.false(out.ok);
    t.is(target.content('f.txt'), 'mine, written after the scan\n');
  });

  test(`${kind}: put copies nothing when the source changed since the scan`, async (t) => {
    const { t: target, s: source, done } = pair(kind, other);
    t.teardown(done);
    source.writeFile('f.txt', 'old\n');
    const e = await entryOf(source, 'f.txt');
    source.writeFile('f.txt', 'new and longer\n', MTIME + 5);
    const out = await target.replica.put('f.txt', null, e, source.replica, 'f.txt');
    t.false(out.ok);
    t.is(target.content('f.txt'), undefined);
  });

  test(`${kind}: putData and writeContent replace a file only when it is as expected`, async (t) => {
    const s = KINDS[kind]('local');
    t.teardown(s.cleanup);
    s.writeFile('f.txt', 'one\n');
    const e = await entryOf(s, 'f.txt');
    const merged = Buffer.from('one, two\n');
    t.true((await s.replica.writeContent('f.txt', e, merged, e.mtimeNs + 1n)).ok);
    t.is(s.content('f.txt'), 'one, two\n');
    const stale = await s.replica.writeContent('f.txt', e, Buffer.from('three\n'), e.mtimeNs);
    t.false(stale.ok);
    t.is(s.content('f.txt'), 'one, two\n');
    const restored = { ...e, size: 4, mtimeNs: BigInt(MTIME) * 1_000_000_000n };
    t.false((await s.replica.putData('f.txt', e, restored, Buffer.from('one\n'))).ok);
    const now = await entryOf(s, 'f.txt');
    t.true((await s.replica.putData('f.txt', now, restored, Buffer.from('one\n'))).ok);
    t.is(s.content('f.txt'), 'one\n');
  });

  test(`${kind}: mkdir makes a directory, accepts one there, refuses over a file`, async (t) => {
    const s = KINDS[kind]('local');
    t.teardown(s.cleanup);
    s.writeFile('f', 'x');
    const dirEntry: Entry = {
      name: 'd',
      kind: 'dir',
      mode: 0o750,
      uid: 0,
      gid: 0,
      size: 0,
      mtimeNs: 0n,
    };
    t.deepEqual(await s.replica.mkdir('d', dirEntry), { ok: true, already: false });
    t.deepEqual(await s.replica.mkdir('d', dirEntry), { ok: true, already: true });
    t.is((await entryOf(s, 'd')).mode, 0o750);
    t.false((await s.replica.mkdir('f', { ...dirEntry, name: 'f' })).ok);
  });

  test(`${kind}: delete removes a file once, and keeps a directory that is not empty`, async (t) => {
    const s = KINDS[kind]('local');
    t.teardown(s.cleanup);
    s.mkdirs('d');
    s.writeFile('d/f', 'x');
    const f = await entryOf(s, 'd/f');
    const d = await entryOf(s, 'd');
    t.false((await s.replica.delete('d', d)).ok);
    t.is(s.content('d/f'), 'x');
    t.deepEqual(await s.replica.delete('d/f', f), { ok: true, already: false });
    t.deepEqual(await s.replica.delete('d/f', f), { ok: true, already: true });
    t.true((await s.replica.delete('d', d)).ok);
    t.is(await s.replica.entry('d'), undefined);
  });

  test(`${kind}: rename and variant move, and never over something`, async (t) => {
    const s = KINDS[kind]('local');
    t.teardown(s.cleanup);
    s.writeFile('a', 'a');
    s.writeFile('b', 'bb');
    const a = await entryOf(s, 'a');
    t.false((await s.replica.rename('a', 'b', a, { ...a, name: 'b' })).ok);
    t.is(s.content('b'), 'bb');
    t.true((await s.replica.rename('a', 'c', a, { ...a, name: 'c' })).ok);
    t.is(s.content('c'), 'a');
    t.is(s.content('a'), undefined);
    const c = await entryOf(s, 'c');
    t.true((await s.replica.variant('c', 'c.local', c)).ok);
    t.is(s.content('c.local'), 'a');
    t.deepEqual(await s.replica.variant('c', 'c.local', c), { ok: true, already: true });
  });

  test(`${kind}: setmeta sets mode and mtime, and only on what the plan saw`, async (t) => {
    const s = KINDS[kind]('local');
    t.teardown(s.cleanup);
    s.writeFile('f', 'x');
    const e = await entryOf(s, 'f');
    const want = { ...e, mode: 0o600, mtimeNs: e.mtimeNs - 1_000_000_000n };
    t.true((await s.replica.setmeta('f', e, want, ['mode', 'mtime'])).ok);
    const now = await entryOf(s, 'f');
    t.is(now.mode, 0o600);
    t.is(now.mtimeNs, want.mtimeNs);
    s.writeFile('g', 'y');
    const g = await entryOf(s, 'g');
    s.writeFile('g', 'changed since the scan');
    t.false((await s.replica.setmeta('g', g, { ...g, mode: 0o600 }, ['mode'])).ok);
    t.not((await entryOf(s, 'g')).mode, 0o600);
  });

  test(`${kind}: a call whose parent is missing fails for its path (no throw through apply)`, async (t) => {
    const { t: target, s: source, done } = pair(kind, other);
    t.teardown(done);
    source.writeFile('f', 'x');
    const e = await entryOf(source, 'f');
    const out = await runAction(
      {
        op: 'put',
        side: 'local',
        path: 'missing/f',
        expect: null,
        entry: e,
        from: 'server',
        fromPath: 'f',
      },
      { local: target.replica, server: source.replica },
    );
    t.false(out.ok);
    t.is(target.content('missing/f'), undefined);
  });

  test(`${kind}: hash, read and matches agree with the bytes`, async (t) => {
    const s = KINDS[kind]('local');
    t.teardown(s.cleanup);
    s.writeFile('f', 'content\n');
    const e = await entryOf(s, 'f');
    t.is(await s.replica.hash('f'), hashBytes(Buffer.from('content\n')));
    t.is((await s.replica.read('f')).toString(), 'content\n');
    t.true(await s.replica.matches('f', e));
    t.true(await s.replica.matches('f', { ...e, id: hashBytes(Buffer.from('content\n')) }));
    t.false(await s.replica.matches('f', { ...e, size: 1 }));
    t.true(await s.replica.matches('g', null));
    t.false(await s.replica.matches('f', null));
  });
}

// Fetching range by range (volume/partial-fetch.ts) against a source that can fail, hang or
// change, with the range maps in a real store: an interrupted fetch keeps exactly the ranges
// that were answered, the next one fetches only the rest, a changed server file or another
// local file starts over, and large files have several ranges in flight.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { TetherError } from '../../src/errors.js';
import { Store } from '../../src/store/store.js';
import { fetchInPlace, localRangeSource } from '../../src/volume/fetch.js';
import { fetchRanges, type RangeSource } from '../../src/volume/partial-fetch.js';
import { RangeStore } from '../../src/volume/range-store.js';
import { presentBytes, type ServerStamp } from '../../src/volume/ranges.js';
import { tempDir } from '../cli/run.js';

const KiB = 1024;
const policy = { chunk: 4 * KiB, parallel: 3, parallelFrom: 32 * KiB };

/** A server file of `size` bytes; `fail(start)` may throw to fail a range. */
class FakeSource implements RangeSource {
  stampNow: ServerStamp;
  readonly copied: [number, number][] = [];
  inFlight = 0;
  maxInFlight = 0;
  fail: (start: number) => void = () => undefined;

  constructor(size: number) {
    this.stampNow = { size, mtimeNs: 1000n };
  }

  stamp(): Promise<ServerStamp> {
    return Promise.resolve(this.stampNow);
  }

  async copy(_path: string, start: number, end: number, expect: ServerStamp): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 2));
      if (expect.size !== this.stampNow.size || expect.mtimeNs !== this.stampNow.mtimeNs) {
        throw new TetherError('ECHANGED', 'changed');
      }
      this.fail(start);
      this.copied.push([start, end]);
    } finally {
      this.inFlight--;
    }
  }

  get bytes(): number {
    return this.copied.reduce((n, [a, b]) => n + b - a, 0);
  }
}

async function maps(t: import('ava').ExecutionContext): Promise<RangeStore> {
  const { dir, cleanup } = tempDir('tether-ranges-');
  const store = await Store.openOrCreate(dir);
  t.teardown(async () => {
    await store.close();
    cleanup();
  });
  return new RangeStore(store.db('volume'));
}

test('a whole fetch records every range; a small file one range at a time', async (t) => {
  const m = await maps(t);
  const src = new FakeSource(10 * KiB + 1);
  const got = await fetchRanges(src, m, 'a', 7n, policy);
  t.deepEqual(got, { stamp: src.stampNow, fetched: 10 * KiB + 1, kept: 0, restarted: false });
  t.is(src.maxInFlight, 1);
  t.deepEqual(m.get('a')?.ranges, [[0, 10 * KiB + 1]]);
});

test('a large file has several ranges in flight', async (t) => {
  const m = await maps(t);
  const src = new FakeSource(64 * KiB);
  await fetchRanges(src, m, 'big', 7n, policy);
  t.is(src.maxInFlight, 3);
  t.is(src.bytes, 64 * KiB);
});

test('an interrupted fetch keeps what was answered; the next fetches only the rest', async (t) => {
  const m = await maps(t);
  const src = new FakeSource(64 * KiB);
  src.fail = (start) => {
    if (start >= 20 * KiB) throw Object.assign(new Error('hung'), { code: 'ETIMEDOUT' });
  };
  await t.throwsAsync(fetchRanges(src, m, 'big', 7n, policy), { message: 'hung' });
  const kept = m.get('big');
  t.truthy(kept);
  const answered = src.bytes;
  t.true(answered >= 20 * KiB && answered < 64 * KiB, `${String(answered)} bytes answered`);
  t.is(presentBytes(kept!), answered, 'exactly the answered ranges are recorded');

  src.fail = () => undefined;
  src.copied.length = 0;
  const got = await fetchRanges(src, m, 'big', 7n, policy);
  t.is(got.kept, answered);
  t.is(got.fetched, 64 * KiB - answered);
  t.is(src.bytes, 64 * KiB - answered, 'only the missing ranges were asked for');
  t.false(got.restarted);
});

test('a server file changed between fetches starts over', async (t) => {
  const m = await maps(t);
  const src = new FakeSource(16 * KiB);
  src.fail = (start) => {
    if (start >= 8 * KiB) throw new Error('down');
  };
  await t.throwsAsync(fetchRanges(src, m, 'f', 7n, policy));
  src.fail = () => undefined;
  src.stampNow = { size: 16 * KiB, mtimeNs: 2000n };
  src.copied.length = 0;
  const got = await fetchRanges(src, m, 'f', 7n, policy);
  t.true(got.restarted);
  t.is(got.kept, 0);
  t.is(src.bytes, 16 * KiB);
  t.is(m.get('f')?.mtimeNs, 2000n);
});

test('a server file changing during the fetch starts it over', async (t) => {
  const m = await maps(t);
  const src = new FakeSource(16 * KiB);
  src.fail = (start) => {
    if (start === 8 * KiB) {
      src.stampNow = { size: 16 * KiB, mtimeNs: 3000n };
      src.fail = () => undefined;
      throw new TetherError('ECHANGED', 'changed');
    }
  };
  const got = await fetchRanges(src, m, 'f', 7n, policy);
  t.true(got.restarted);
  t.is(got.stamp.mtimeNs, 3000n);
  t.deepEqual(m.get('f')?.ranges, [[0, 16 * KiB]]);
});

test('ranges recorded for another local file count for nothing', async (t) => {
  const m = await maps(t);
  const src = new FakeSource(16 * KiB);
  src.fail = (start) => {
    if (start >= 8 * KiB) throw new Error('down');
  };
  await t.throwsAsync(fetchRanges(src, m, 'f', 7n, policy));
  src.fail = () => undefined;
  src.copied.length = 0;
  const got = await fetchRanges(src, m, 'f', 8n, policy);
  t.is(got.kept, 0);
  t.is(src.bytes, 16 * KiB);
  t.is(m.get('f')?.ino, 8n);
});

test('a file of one range is copied and completed by one request, with no map; a larger one by ranges', async (t) => {
  const m = await maps(t);
  const { dir, cleanup } = tempDir('tether-whole-');
  t.teardown(cleanup);
  const remote = join(dir, 'remote');
  const local = join(dir, 'local');
  mkdirSync(remote);
  mkdirSync(local);
  const small = randomBytes(3 * KiB);
  const large = randomBytes(10 * KiB);
  writeFileSync(join(remote, 'small'), small);
  writeFileSync(join(remote, 'large'), large);
  const mtime = new Date('2020-02-02T02:02:02Z');
  utimesSync(join(remote, 'small'), mtime, mtime);
  for (const [n, b] of [
    ['small', small],
    ['large', large],
  ] as const) {
    // Placeholders: sparse files of the server file's size.
    writeFileSync(join(local, n), '');
    truncateSync(join(local, n), b.length);
  }
  const src = localRangeSource(Buffer.from(remote), Buffer.from(local));
  const whole: number[] = [];
  const copies: [number, number][] = [];
  const counted: RangeSource = {
    stamp: (p, from) => src.stamp(p, from),
    copy: async (p, s, e, expect, from) => {
      copies.push([s, e]);
      await src.copy(p, s, e, expect, from);
    },
    whole: async (p, max, from) => {
      const w = await src.whole!(p, max, from);
      if (w.copied) whole.push(w.stamp.size);
      return w;
    },
  };
  const got = await fetchInPlace(counted, m, Buffer.from(local), 'small', policy);
  t.deepEqual(whole, [small.length]);
  t.deepEqual(copies, [], 'no range requests');
  t.is(m.get('small'), undefined, 'no range map recorded');
  t.deepEqual(readFileSync(join(local, 'small')), small);
  t.is(statSync(join(local, 'small')).mtimeMs, mtime.getTime());
  t.is(got.fetched, small.length);

  await fetchInPlace(counted, m, Buffer.from(local), 'large', policy);
  t.deepEqual(whole, [small.length], 'larger than one range: not copied whole');
  t.is(copies.length, Math.ceil(large.length / policy.chunk));
  t.deepEqual(readFileSync(join(local, 'large')), large);
});

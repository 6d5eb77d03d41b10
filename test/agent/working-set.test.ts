// The event log (sequence, bound, reading after a cursor), which files a pin covers, and the
// automatic reconnection's rules (auto probes with back-off and goes online when the server
// answers; manual, or a volume taken offline by hand, is never reconnected).
import test from 'ava';
import { MemoryKvDb } from '../../src/store/memory.js';
import { EventLog } from '../../src/volume/events.js';
import { covers, Pins, type Pin } from '../../src/volume/pins.js';
import { Reconnector } from '../../src/volume/reconnect.js';
import type { RemoteIo } from '../../src/volume/remote-io.js';
import type { OfflineCause, Volume } from '../../src/volume/volume.js';

test('events: numbered in order, the last ones kept, read after a cursor', async (t) => {
  const db = new MemoryKvDb();
  const log = new EventLog(db, 5);
  for (let i = 0; i < 8; i++) log.append('sync-finish', { applied: i });
  await log.settled();
  const all = log.since(0);
  t.deepEqual(
    all.map((e) => e.seq),
    [4, 5, 6, 7, 8],
  );
  t.is(all[0]?.['applied'], 3);
  t.deepEqual(
    log.since(6).map((e) => e.seq),
    [7, 8],
  );
  // A new log over the same records continues the numbering.
  t.is(new EventLog(db, 5).append('mode').seq, 9);
});

const pin = (path: string, recursive: boolean): Pin => ({ path, recursive, priority: 0 });

const COVERS: [string, Pin, string, boolean][] = [
  ['the pinned file itself', pin('a/f', false), 'a/f', true],
  ['a file in a pinned directory', pin('a', false), 'a/f', true],
  ['deeper, not recursive', pin('a', false), 'a/b/f', false],
  ['deeper, recursive', pin('a', true), 'a/b/f', true],
  ['a sibling with the same prefix', pin('a', true), 'ab/f', false],
  ['the root, recursive', pin('', true), 'x/y', true],
  ['the root, its own files only', pin('', false), 'x/y', false],
];
for (const [what, p, path, want] of COVERS) {
  test(`pins: ${what}`, (t) => {
    t.is(covers(p, path), want);
  });
}

test('pins: kept, listed by priority, removed', async (t) => {
  const pins = new Pins(new MemoryKvDb());
  await pins.add('low', true, 1);
  await pins.add('high', false, 9);
  t.deepEqual(
    pins.list().map((p) => p.path),
    ['high', 'low'],
  );
  t.true(await pins.remove('low'));
  t.false(await pins.remove('low'));
  t.is(pins.list().length, 1);
});

interface Fake {
  mode: 'online' | 'offline';
  offlineCause: OfflineCause;
  onlines: number;
  probes: number;
  up: boolean;
}

function fakes(): { f: Fake; r: Reconnector } {
  const f: Fake = { mode: 'offline', offlineCause: 'failure', onlines: 0, probes: 0, up: false };
  const volume = {
    get mode() {
      return f.mode;
    },
    get offlineCause() {
      return f.offlineCause;
    },
    goOnline: () => {
      f.onlines++;
      f.mode = 'online';
      return Promise.resolve();
    },
  } as unknown as Volume;
  const io = {
    // A probe that does not ask the server itself is answered from a client's caches, dead
    // server or not (reconnect.ts): only a fresh one tells.
    probe: (fresh?: boolean) => {
      f.probes++;
      return f.up || fresh !== true ? Promise.resolve() : Promise.reject(new Error('no answer'));
    },
  } as unknown as RemoteIo;
  const r = new Reconnector(volume, io, new MemoryKvDb(), () => undefined, 20, 80);
  return { f, r };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('reconnect, auto: probes with back-off, goes online once the server answers', async (t) => {
  const { f, r } = fakes();
  r.start();
  t.teardown(() => {
    r.stop();
  });
  await sleep(400);
  t.is(f.onlines, 0);
  // 20, 40, 80, 80, 80 ms apart: a handful of probes, not one per 20 ms.
  t.true(f.probes >= 3 && f.probes <= 8, `${f.probes} probes`);
  f.up = true;
  await sleep(200);
  t.is(f.onlines, 1);
});

test('reconnect: manual mode, or offline by hand, is never undone', async (t) => {
  const { f, r } = fakes();
  f.up = true;
  await r.setMode('manual');
  r.start();
  t.teardown(() => {
    r.stop();
  });
  await sleep(200);
  t.is(f.onlines, 0);
  t.is(f.probes, 0);
  await r.setMode('auto');
  f.offlineCause = 'manual';
  await sleep(200);
  t.is(f.onlines, 0);
  f.offlineCause = 'failure';
  await sleep(200);
  t.is(f.onlines, 1);
});

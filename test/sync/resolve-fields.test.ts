// resolve takes every field of the chosen side: content, mode, owner, times and xattrs. A
// metadata conflict leaves the same content on both sides, so "already done" must look at the
// conflicted fields too, not at content and mode alone.
import test from 'ava';
import { chownSync, lstatSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from '@napi-rs/xattr';
import { Store } from '../../src/store/store.js';
import { resolveConflict, type Take } from '../../src/sync/resolve.js';
import { openResolveSession } from '../../src/sync/resolve-session.js';
import { runSyncDirs } from '../../src/sync/sync-dirs.js';
import { tempDir } from '../cli/run.js';

const OLD = Math.floor(Date.now() / 1000) - 3600;
const isRoot = process.getuid?.() === 0;

async function synced(): Promise<{ a: string; b: string; storeDir: string; cleanup: () => void }> {
  const tmp = tempDir();
  const a = join(tmp.dir, 'A');
  const b = join(tmp.dir, 'B');
  const storeDir = join(tmp.dir, 'store');
  for (const r of [a, b]) {
    mkdirSync(r);
    writeFileSync(join(r, 'f'), 'same\n');
    utimesSync(join(r, 'f'), OLD, OLD);
  }
  const s = await Store.create(storeDir);
  try {
    await runSyncDirs(s, a, b);
  } finally {
    await s.close();
  }
  return { a, b, storeDir, cleanup: tmp.cleanup };
}

async function syncAndResolve(
  p: { a: string; b: string; storeDir: string },
  take: Take,
): Promise<number> {
  const s = await Store.open(p.storeDir);
  let conflicts: number;
  try {
    conflicts = (await runSyncDirs(s, p.a, p.b)).conflicts.length;
  } finally {
    await s.close();
  }
  const session = await openResolveSession(p.storeDir, { lock: true });
  try {
    await resolveConflict(session.env, 'f', take);
  } finally {
    await session.close();
  }
  return conflicts;
}

const xattr = (p: string): string | undefined => getAttributeSync(p, 'user.x')?.toString();

for (const take of ['local', 'server'] as const) {
  test(`an xattr conflict resolved --take ${take} leaves ${take}'s value on both sides`, async (t) => {
    const p = await synced();
    try {
      setAttributeSync(join(p.a, 'f'), 'user.x', Buffer.from('L'));
      setAttributeSync(join(p.b, 'f'), 'user.x', Buffer.from('S'));
      t.is(await syncAndResolve(p, take), 1, 'a metadata conflict');
      const want = take === 'local' ? 'L' : 'S';
      t.is(xattr(join(p.a, 'f')), want);
      t.is(xattr(join(p.b, 'f')), want);
    } finally {
      p.cleanup();
    }
  });
}

// Owners can be set by root only (resolve sets them only then).
(isRoot ? test : test.skip)(
  'an owner conflict resolved --take local leaves the local owner on both sides (as root)',
  async (t) => {
    const p = await synced();
    try {
      chownSync(join(p.a, 'f'), 1234, 1234);
      chownSync(join(p.b, 'f'), 4321, 4321);
      t.is(await syncAndResolve(p, 'local'), 1, 'a metadata conflict');
      for (const r of [p.a, p.b]) t.is(lstatSync(join(r, 'f')).uid, 1234);
    } finally {
      p.cleanup();
    }
  },
);

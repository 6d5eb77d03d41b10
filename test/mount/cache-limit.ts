// The cache limit through real mounts, shared by its tests: a volume mounted with a limit a
// given room above what it takes with nothing fetched, its status and events as JSON, and
// what a file in the mount reads as or shows as its state (each read by a child process).
import type { ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mounted, sh, tetherRun, type Volume } from './harness.js';

export interface CacheLimitJson {
  cacheSize?: number;
  pinCacheSize?: number;
  pinned: number;
  automatic: number;
  full: boolean;
  walks?: number;
}

export async function statusJson(
  mnt: string,
): Promise<{ cacheLimit: CacheLimitJson; mode: string }> {
  const r = await tetherRun(['status', mnt, '--json'], 30_000);
  if (r.status !== 0) throw new Error(`status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { cacheLimit: CacheLimitJson; mode: string };
}

export const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex') + '  -\n';

/** The md5sum of a file in the mount, read by a child process. */
export const md5In = async (path: string): Promise<string> =>
  (await sh(`md5sum < '${path}'`)).stdout;

export const state = async (path: string): Promise<string> =>
  (await sh(`getfattr --only-values -n user.tether.state '${path}'`)).stdout;

export async function events(mnt: string): Promise<{ type: string; [k: string]: unknown }[]> {
  const r = await tetherRun(['events', mnt, '--json'], 30_000);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string });
}

/** Mount again (after `v.unmount()`) with more options; unmounted at teardown. */
export async function remount(
  t: ExecutionContext,
  v: Volume,
  more: readonly string[],
): Promise<void> {
  const r = await tetherRun(['mount', v.remote, v.mnt, '--store', v.store, ...more], 60_000);
  if (r.status !== 0) throw new Error(`tether mount failed: ${r.stderr}`);
  t.teardown(async () => {
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(v.mnt)) {
      const u = await tetherRun(['unmount', v.mnt], 60_000);
      if (u.status !== 0) spawnSync('fusermount', ['-uz', v.mnt]);
    }
  });
}

/**
 * The automatic cache's use with nothing fetched (but what `before` hoards), then the volume
 * mounted with a limit `room` above it (and `more` options).
 */
export async function limitedVolume(
  t: ExecutionContext,
  fill: (remote: string) => void,
  room: number,
  before: (v: Volume) => Promise<void> = async () => undefined,
  more: readonly string[] = [],
): Promise<{ v: Volume; limit: number }> {
  const v = await mounted(t, fill, { TETHER_CULL_MS: '500' });
  await before(v);
  const base = (await statusJson(v.mnt)).cacheLimit.automatic;
  await v.unmount();
  const limit = base + room;
  await remount(t, v, ['--cache-size', String(limit), ...more]);
  return { v, limit };
}

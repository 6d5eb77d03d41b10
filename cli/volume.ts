// What the volume commands share: finding the volume a PATH is in (from /proc/self/mountinfo,
// never by touching the mount), and asking its daemon.
import { locate, locateOrThrow, type Located } from '../src/volume/find.js';
import { request } from '../src/volume/control.js';

export { locate, locateOrThrow, type Located };

/** A path inside the volume as text (relative to its root). */
export const relText = (l: Located): string => Buffer.from(l.path, 'latin1').toString('utf8');

/** How long a command waits for the daemon: quick questions, and whole syncs. */
export const QUICK_MS = 10_000;
export const LONG_MS = 10 * 60_000;

/** Ask the daemon; a long request is preceded by a quick ping, so a hung daemon shows soon. */
export async function ask(
  l: Located,
  req: { op: string; [k: string]: unknown },
  timeoutMs = QUICK_MS,
): Promise<Record<string, unknown>> {
  if (timeoutMs > QUICK_MS) await request(l.storeDir, { op: 'ping' }, QUICK_MS, l.mountpoint);
  return request(l.storeDir, req, timeoutMs, l.mountpoint);
}

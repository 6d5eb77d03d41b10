// TETHER_PROFILE_SYNC=DIR: the agent writes a CPU profile of each sync it runs to DIR
// (`sync-<time>.cpuprofile`, for Chrome's DevTools or any reader of that format); the daemon
// its side of each sync (`daemon-<time>.cpuprofile`). TETHER_PROFILE_HOARD=DIR: the daemon
// its side of each hoard (`hoard-<time>.cpuprofile`). TETHER_PROFILE_AGENT=DIR: each agent its
// whole life (`agent-<time>.cpuprofile`).
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export async function profiled<T>(dir: string, fn: () => Promise<T>, who = 'sync'): Promise<T> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(join(dir, `${who}-${String(Date.now())}.cpuprofile`), JSON.stringify(profile));
  }
}

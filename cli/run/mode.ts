// The bodies of `tether offline PATH` and `tether online PATH` (cli/mode.ts parses them; so
// does cli/thin.ts). Going online reconnects: scan, merge, apply through the engine; exit 3
// when conflicts remain.
import { EXIT, type Io } from '../output.js';
import { syncReplyOf, troubleCounts, troubleLines } from '../sync-reply.js';
import { ask, LONG_MS, locateOrThrow } from '../volume.js';

export async function offline(target: string, io: Io): Promise<number> {
  const l = locateOrThrow(target);
  await ask(l, { op: 'offline' });
  io.out(`${l.mountpoint}: offline`);
  return 0;
}

export async function online(target: string, io: Io): Promise<number> {
  const l = locateOrThrow(target);
  const s = syncReplyOf(await ask(l, { op: 'online' }, LONG_MS));
  for (const line of troubleLines(s)) io.out(line);
  io.out(
    `${l.mountpoint}: online (${s.applied} changes applied${troubleCounts(s)}, ${s.open} conflict${s.open === 1 ? '' : 's'} open)`,
  );
  // Online all the same: what failed is tried again by the next sync.
  if (s.failures.length > 0 || s.problems.length > 0) return EXIT.error;
  return s.open > 0 ? EXIT.conflicts : 0;
}

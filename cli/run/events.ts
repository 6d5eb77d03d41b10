// The body of `tether events [PATH] [--follow] [--json]` as its daemon answers it (cli/events.ts
// parses it and reads a store that is not mounted itself; cli/thin.ts parses the first form).
import { TetherError } from '../../src/errors.js';
import { describeEvent, type VolumeEventRecord } from '../../src/volume/events.js';
import type { Io } from '../output.js';
import { ask, locate } from '../volume.js';

const POLL_MS = 300;

/** Print `events`: one line each, or one JSON object a line. */
export function printEvents(events: readonly VolumeEventRecord[], asJson: boolean, io: Io): void {
  for (const e of events) io.out(asJson ? JSON.stringify(e) : describeEvent(e));
}

/** The events of the volume `target` is in, from its daemon; with `follow`, new ones as well. */
export async function daemonEvents(
  target: string | undefined,
  opts: { readonly follow: boolean; readonly asJson: boolean },
  io: Io,
): Promise<number> {
  const l = locate(target ?? '.');
  if (l === undefined) {
    throw new TetherError(
      'EUSAGE',
      `${target ?? 'the current directory'} is not in a mounted volume: give a path inside one, or --store DIR`,
    );
  }
  let since = 0;
  for (;;) {
    const r = await ask(l, { op: 'events', since });
    const events = r['events'] as VolumeEventRecord[];
    printEvents(events, opts.asJson, io);
    since = events.at(-1)?.seq ?? since;
    if (!opts.follow) return 0;
    if (events.length === 0) await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

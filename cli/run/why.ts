// The body of `tether why PATH` (cli/why.ts parses it; so does cli/thin.ts): the last failure
// on a path in a mount, with its tether name (DESIGN decision 7: the mount answers the closest
// errno, this says what it stood for).
import type { WhyRecord } from '../../src/volume/why.js';
import { locateView } from '../../src/view/find.js';
import { request } from '../../src/volume/control.js';
import type { Io } from '../output.js';
import { ask, locateOrThrow, QUICK_MS, relText } from '../volume.js';

async function whyInVolume(target: string): Promise<Record<string, unknown>> {
  const l = locateOrThrow(target);
  return ask(l, { op: 'why', path: relText(l) });
}

export async function why(target: string, asJson: boolean, io: Io): Promise<number> {
  const inView = locateView(target);
  const r =
    inView === undefined
      ? await whyInVolume(target)
      : await request(
          inView.viewDir,
          { op: 'why', path: Buffer.from(inView.path, 'latin1').toString() },
          QUICK_MS,
        );
  const w = r['why'] as (WhyRecord & { meaning: string }) | undefined;
  if (asJson) io.json(w ?? null);
  else if (w === undefined) io.out(`${target}: no failure recorded`);
  else {
    io.out(`${target}: ${w.name} (answered ${w.errno} to ${w.op}): ${w.meaning}`);
    io.out(`  ${w.message} (${new Date(w.at).toISOString()})`);
  }
  return 0;
}

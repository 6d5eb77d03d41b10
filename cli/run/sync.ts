// The body of `tether sync PATH [--dry-run] [--json]` (cli/sync.ts parses it; so does
// cli/thin.ts): a mounted volume's three-way merge now.
import type { Plan } from '../../src/merge/plan.js';
import { display } from '../../src/tree/bytes.js';
import { EXIT, type Io } from '../output.js';
import { syncReplyOf, troubleCounts, troubleLines } from '../sync-reply.js';
import { ask, LONG_MS, locateOrThrow } from '../volume.js';

export async function sync(
  target: string,
  opts: { readonly dryRun: boolean; readonly asJson: boolean },
  io: Io,
): Promise<number> {
  const l = locateOrThrow(target);
  const r = await ask(l, { op: 'sync', dryRun: opts.dryRun }, LONG_MS);
  const plan = r['plan'] as Plan;
  const s = syncReplyOf(r);
  if (opts.asJson) io.json(r);
  else {
    for (const a of plan.actions) io.out(`${a.op} ${a.side} ${display(a.path)}`);
    for (const c of plan.conflicts) io.out(`conflict ${c.kind} ${display(c.path)}`);
    for (const line of troubleLines(s)) io.out(line);
    io.out(
      opts.dryRun
        ? `would apply ${plan.actions.length} actions; ${s.open} conflicts open`
        : `applied ${s.applied} of ${plan.actions.length} actions${troubleCounts(s)}; ${s.open} conflicts open`,
    );
  }
  // What failed stays as it is on both sides and is tried again by the next sync.
  if (s.failures.length > 0 || s.problems.length > 0) return EXIT.error;
  return s.open > 0 ? EXIT.conflicts : 0;
}

// The differential suite: every case runs on the local disk and on a target, and each case is
// one ava test comparing the two. The cases run in child processes (setup and run as root,
// then the cases of the unprivileged user as that user), once per target.
import type { TestFn } from 'ava';
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../fuse/harness.js';
import { cases, NOBODY } from './cases.js';
import type { Observed } from './recorder.js';
import { localDisk, type Target } from './target.js';

const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));

type Results = Map<number, Observed[]>;

async function probe(
  dir: string,
  phase: string,
  indexes: number[],
  uid?: number,
): Promise<Results> {
  const r = await run(process.execPath, [PROBE, phase, ...indexes.map(String)], {
    cwd: dir,
    timeoutMs: 240_000,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  if (r.status !== 0) {
    throw new Error(`probe ${phase} in ${dir}: ${r.timedOut ? 'timed out' : r.stderr}`);
  }
  const out: Results = new Map();
  for (const line of r.stdout.toString().split('\n')) {
    if (line === '') continue;
    const { index, observed } = JSON.parse(line) as { index: number; observed: Observed[] };
    out.set(index, observed);
  }
  return out;
}

/** All cases on one target: setup, then run (as root, then as the unprivileged user). */
export async function runCases(target: Target): Promise<Results> {
  const m = await target.mount();
  try {
    chmodSync(m.dir, 0o755);
    const all = cases.map((_, i) => i);
    const nobody = all.filter((i) => cases[i]?.as === 'nobody');
    const root = all.filter((i) => cases[i]?.as !== 'nobody');
    const setup = await probe(m.dir, 'setup', all);
    const ran = new Map([
      ...(await probe(m.dir, 'run', root)),
      ...(await probe(m.dir, 'run', nobody, NOBODY)),
    ]);
    return new Map(all.map((i) => [i, [...(setup.get(i) ?? []), ...(ran.get(i) ?? [])]]));
  } finally {
    await m.unmount();
  }
}

/** What a case observed, less the xattrs the target adds by design (in getfattr's listings). */
function withoutOwn(
  observed: Observed[] | undefined,
  prefix: string | undefined,
): Observed[] | undefined {
  if (observed === undefined || prefix === undefined) return observed;
  return observed.map((o) =>
    'value' in o && Array.isArray(o.value)
      ? { ...o, value: o.value.filter((v) => !(typeof v === 'string' && v.startsWith(prefix))) }
      : o,
  );
}

// The local disk's answers, computed once per test file for every target held to them.
let onLocalDisk: Promise<Results> | undefined;

/** Registers one test per case: the target must observe what the local disk observes. */
export function differential(
  test: TestFn,
  target: Target,
  knownDifferences: Record<string, string> = {},
): void {
  if (target.why !== undefined) {
    test.skip(`POSIX suite on ${target.name}: ${target.why}`, () => undefined);
    return;
  }
  let actual: Promise<Results> | undefined;
  cases.forEach((c, i) => {
    const known = knownDifferences[c.name];
    const register = known === undefined ? test.serial : test.serial.failing;
    register(
      `${target.name}: ${c.name}${known === undefined ? '' : ` (known: ${known})`}`,
      async (t) => {
        onLocalDisk ??= runCases(localDisk);
        actual ??= runCases(target);
        const [want, got] = await Promise.all([onLocalDisk, actual]);
        t.deepEqual(withoutOwn(got.get(i), target.ownXattrs), want.get(i));
      },
    );
  });
}

// Runs the real programs on the local disk and on a target, one ava test per program, each
// comparing the two outputs. Every script runs in a child process with a deadline.
import type { TestFn } from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../fuse/harness.js';
import { programs, scriptOf, type Program } from './programs.js';
import { localDisk, type Target } from './target.js';

type Outputs = Map<string, string>;

const installed = (cmd: string): Promise<boolean> =>
  sh('command -v "$1"', [cmd]).then((r) => r.status === 0);

async function runAll(target: Target, which: Program[]): Promise<Outputs> {
  const m = await target.mount();
  const out: Outputs = new Map();
  try {
    for (const [i, p] of which.entries()) {
      const dir = join(m.dir, `p${i}`);
      mkdirSync(dir);
      const r = await sh(scriptOf(p), [], { cwd: dir, timeoutMs: 180_000 });
      const status = r.timedOut ? 'timed out' : `exit ${r.status}`;
      out.set(p.name, `${status}\n${r.stdout.toString('latin1')}${r.status === 0 ? '' : r.stderr}`);
    }
  } finally {
    await m.unmount();
  }
  return out;
}

// The local disk's answers, computed once per test file for every target held to them.
let onLocalDisk: Promise<Outputs> | undefined;

/** knownDifferences: program name → why it differs (registered as a failing test). */
export function programsDifferential(
  test: TestFn,
  target: Target,
  knownDifferences: Record<string, string> = {},
): void {
  if (target.why !== undefined) {
    test.skip(`real programs on ${target.name}: ${target.why}`, () => undefined);
    return;
  }
  let runnable: Promise<Program[]> | undefined;
  let actual: Promise<Outputs> | undefined;
  for (const p of programs) {
    const known = knownDifferences[p.name];
    const register = known === undefined ? test.serial : test.serial.failing;
    register(
      `${target.name}: ${p.name}${known === undefined ? '' : ` (known: ${known})`}`,
      async (t) => {
        runnable ??= Promise.all(
          programs.map(async (q) =>
            (await Promise.all(q.needs.map(installed))).every(Boolean) ? q : undefined,
          ),
        ).then((qs) => qs.filter((q): q is Program => q !== undefined));
        const which = await runnable;
        if (!which.includes(p)) {
          t.log(`skipped: needs ${p.needs.join(', ')}`);
          t.pass();
          return;
        }
        onLocalDisk ??= runAll(localDisk, which);
        actual ??= runAll(target, which);
        const [want, got] = await Promise.all([onLocalDisk, actual]);
        t.true(want.get(p.name)?.startsWith('exit 0\n'), `on the local disk: ${want.get(p.name)}`);
        t.is(got.get(p.name), want.get(p.name));
      },
    );
  }
}

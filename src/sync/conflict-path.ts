// The conflicted path a command-line PATH stands for (resolve, show, and a volume's resolve).
import { posix } from 'node:path';
import type { Path } from '../merge/plan.js';
import { fromText } from '../tree/index.js';
import { argForms } from './path-arg.js';
import type { ResolveEnv } from './resolve-env.js';

/**
 * The conflicted path a command-line PATH names: a path relative to the replicas' root, or a
 * path inside either replica (absolute, or relative to `cwd`), or the name of a local variant
 * file (which names its conflict). Unknown paths come back as given (resolve then says which
 * paths are in conflict).
 */
export function conflictPathOf(env: ResolveEnv, arg: string, cwd: string): Path {
  // Worked out on byte strings (one char per byte): path operations only look at '/' and '.',
  // so names that are not UTF-8 pass through them unchanged.
  const roots = [env.localRoot, env.serverRoot].map((r) => posix.resolve(fromText(r)));
  const here = fromText(cwd);
  let fallback: Path | undefined;
  for (const form of argForms(arg)) {
    const candidates: Path[] = [];
    if (!posix.isAbsolute(form)) candidates.push(form.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
    const abs = posix.resolve(here, form);
    for (const root of roots) {
      const rel = posix.relative(root, abs);
      if (rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel)) candidates.push(rel);
    }
    // A variant's path names its own conflict (several may be open at one path).
    for (const p of candidates) if (env.conflicts.has(p)) return p;
    fallback ??= candidates[candidates.length - 1];
  }
  return fallback ?? fromText(arg);
}

// `tether conflicts`: the open conflict records of a store (path, kind, the local variant's
// name, the three sides' ids, the message); `--history` lists the resolved ones instead.
import { Command, Option } from 'clipanion';
import type { Conflict } from '../src/merge/plan.js';
import type { ResolvedConflict } from '../src/sync/conflict-store.js';
import { openResolveSession } from '../src/sync/resolve-session.js';
import { display, isUtf8, type Entry } from '../src/tree/index.js';
import { resolveStore, storeOption, TetherCommand } from './base.js';
import { locate } from './volume.js';

export class ConflictsCommand extends TetherCommand {
  static override paths = [['conflicts']];
  static override usage = Command.Usage({
    category: 'Sync',
    description: 'list the conflicts that wait for a decision',
    details: `
      Each record says which path is in conflict, what kind of conflict it is, where the local
      version was kept (a sibling variant file in the local replica), and the ids of the base,
      local and server versions. Decide with \`tether resolve PATH --take local|server|base|both\`;
      look at a version with \`tether show PATH --variant local|server|base\`.
    `,
    examples: [
      ['List conflicts', '$0 conflicts --store ./sync-store'],
      ['As JSON', '$0 conflicts --store ./sync-store --json'],
      ['Resolved conflicts, oldest first', '$0 conflicts --store ./sync-store --history'],
    ],
  });

  store = storeOption();
  asJson = Option.Boolean('--json', false, { description: 'Print JSON' });
  history = Option.Boolean('--history', false, {
    description: 'List resolved and auto-merged conflicts instead of open ones',
  });

  target = Option.String({ name: 'PATH', required: false });

  async execute(): Promise<number> {
    // A path in a mount (or the current directory, without --store) names its volume.
    const inMount = this.store === undefined ? locate(this.target ?? '.') : undefined;
    const session = await openResolveSession(inMount?.storeDir ?? resolveStore(this.store));
    try {
      const { conflicts } = session.env;
      if (this.history) {
        const list = conflicts.history();
        if (this.asJson) this.json(list.map(resolvedJson));
        else if (list.length === 0) this.out('no resolved conflicts');
        else for (const r of list) this.out(resolvedLine(r));
      } else {
        const list = conflicts.list();
        if (this.asJson) this.json(list.map(conflictJson));
        else if (list.length === 0) this.out('no conflicts');
        else for (const c of list) this.out(conflictText(c));
      }
      return 0;
    } finally {
      await session.close();
    }
  }
}

function side(e: Entry | null): string {
  if (e === null) return 'absent';
  const what = e.kind === 'file' ? '' : `${e.kind} `;
  if (e.kind === 'symlink') return `${what}-> ${display(e.target ?? '')}`;
  return `${what}${e.id === undefined ? `(size ${e.size}, not hashed)` : e.id.slice(0, 12)} mode ${e.mode.toString(8).padStart(4, '0')}`;
}

function conflictText(c: Conflict): string {
  const lines = [`${c.kind}\t${display(c.path)}${c.informational ? '\t(informational)' : ''}`];
  if (c.variantPath !== undefined) lines.push(`  local variant: ${display(c.variantPath)}`);
  lines.push(
    `  base:   ${side(c.base)}`,
    `  local:  ${side(c.local)}`,
    `  server: ${side(c.server)}`,
  );
  if (c.fields.length > 0) lines.push(`  fields: ${c.fields.join(', ')}`);
  lines.push(`  ${c.message}`);
  return lines.join('\n');
}

function resolvedLine(r: ResolvedConflict): string {
  const how = r.resolution === 'auto-merge' ? 'auto-merged' : `took ${r.resolution}`;
  const kept = r.keptPath === undefined ? '' : ` (kept ${display(r.keptPath)})`;
  return `${new Date(r.at).toISOString()}\t${r.conflict.kind}\t${display(r.conflict.path)}\t${how}${kept}`;
}

/** A path for JSON: its text, plus its bytes in base64 when they are not UTF-8. */
function pathJson(key: string, p: string): Record<string, string> {
  return isUtf8(p)
    ? { [key]: display(p) }
    : { [key]: display(p), [`${key}Base64`]: Buffer.from(p, 'latin1').toString('base64') };
}

function entryJson(e: Entry | null): unknown {
  if (e === null) return null;
  return {
    kind: e.kind,
    id: e.id ?? null,
    size: e.size,
    mode: e.mode.toString(8).padStart(4, '0'),
    mtimeNs: e.mtimeNs.toString(),
    ...(e.target === undefined ? {} : pathJson('target', e.target)),
  };
}

function conflictJson(c: Conflict): unknown {
  return {
    ...pathJson('path', c.path),
    kind: c.kind,
    ...(c.variantPath === undefined ? { variant: null } : pathJson('variant', c.variantPath)),
    base: entryJson(c.base),
    local: entryJson(c.local),
    server: entryJson(c.server),
    fields: c.fields,
    informational: c.informational,
    message: c.message,
  };
}

function resolvedJson(r: ResolvedConflict): unknown {
  return {
    conflict: conflictJson(r.conflict),
    resolution: r.resolution,
    at: new Date(r.at).toISOString(),
    result: entryJson(r.result),
    ...(r.keptPath === undefined ? {} : pathJson('kept', r.keptPath)),
  };
}

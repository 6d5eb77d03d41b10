// Automatic resolution where it is safe (issue 3, item 7): a text file changed on both sides
// in regions that do not touch merges with a line-based three-way merge (node-diff3, the diff3
// algorithm). Anything else — binary content, overlapping or adjacent edits, a file too large
// to diff quickly — is left a conflict: a wrong merge would be a lost update that nobody sees.
//
// Lines keep their terminators ("\n", "\r\n" or a lone "\r") as part of the line, so the
// merged bytes keep every line ending and a missing final newline exactly as each side had
// them. Text means valid UTF-8 with no NUL byte: the test git and diff use for "binary".
import { isUtf8 } from 'node:buffer';
import { diff3MergeRegions } from 'node-diff3';

/** Files above this size are not merged (the line diff is super-linear in the worst case). */
export const DEFAULT_MAX_MERGE_BYTES = 4 * 1024 * 1024;

export interface TextMergeOptions {
  /** Largest size of any of the three versions that is merged (default 4 MiB). */
  readonly maxBytes?: number;
}

/** Why a merge was not made. */
export type NoMergeReason = 'binary' | 'too-large' | 'overlap';

export type TextMergeOutcome =
  | { readonly merged: true; readonly content: Buffer }
  | { readonly merged: false; readonly reason: NoMergeReason };

/** The merged content when local's and server's changes to base do not overlap, else null. */
export function mergeText(
  base: Buffer,
  local: Buffer,
  server: Buffer,
  options: TextMergeOptions = {},
): Buffer | null {
  const out = tryMergeText(base, local, server, options);
  return out.merged ? out.content : null;
}

/** Like mergeText, saying why when there is no merge. */
export function tryMergeText(
  base: Buffer,
  local: Buffer,
  server: Buffer,
  options: TextMergeOptions = {},
): TextMergeOutcome {
  const max = options.maxBytes ?? DEFAULT_MAX_MERGE_BYTES;
  if (base.length > max || local.length > max || server.length > max) {
    return { merged: false, reason: 'too-large' };
  }
  if (!isText(base) || !isText(local) || !isText(server))
    return { merged: false, reason: 'binary' };
  // One side unchanged, or both made the same change: no line diff needed.
  if (local.equals(base) || local.equals(server)) return { merged: true, content: server };
  if (server.equals(base)) return { merged: true, content: local };
  const merged = mergeLines(splitLines(base), splitLines(local), splitLines(server));
  if (merged === null) return { merged: false, reason: 'overlap' };
  return { merged: true, content: Buffer.from(merged.join(''), 'utf8') };
}

/** Valid UTF-8 without NUL bytes. */
export function isText(bytes: Buffer): boolean {
  return !bytes.includes(0) && isUtf8(bytes);
}

/** Lines with their terminators; joining them gives the text back exactly. */
export function splitLines(bytes: Buffer): string[] {
  return bytes.toString('utf8').match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/**
 * diff3 over lines. A region where only one side differs from base takes that side; one
 * where both sides made the same change takes it once; any other region is a conflict (this
 * includes changes that are merely adjacent: they touch the same place in base).
 */
function mergeLines(o: string[], a: string[], b: string[]): string[] | null {
  // Lines equal on all three sides at the start and end cannot be part of any change;
  // leaving them out keeps the diff small for the usual few-lines-changed file.
  let pre = 0;
  while (
    pre < o.length &&
    pre < a.length &&
    pre < b.length &&
    o[pre] === a[pre] &&
    o[pre] === b[pre]
  )
    pre++;
  let suf = 0;
  while (
    suf < o.length - pre &&
    suf < a.length - pre &&
    suf < b.length - pre &&
    o[o.length - 1 - suf] === a[a.length - 1 - suf] &&
    o[o.length - 1 - suf] === b[b.length - 1 - suf]
  )
    suf++;
  const out: string[] = o.slice(0, pre);
  const regions = diff3MergeRegions(
    a.slice(pre, a.length - suf),
    o.slice(pre, o.length - suf),
    b.slice(pre, b.length - suf),
  );
  for (const r of regions) {
    if (r.stable) {
      out.push(...r.bufferContent);
      continue;
    }
    if (sameLines(r.aContent, r.oContent)) out.push(...r.bContent);
    else if (sameLines(r.bContent, r.oContent) || sameLines(r.aContent, r.bContent))
      out.push(...r.aContent);
    else return null;
  }
  out.push(...o.slice(o.length - suf));
  return out;
}

function sameLines(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

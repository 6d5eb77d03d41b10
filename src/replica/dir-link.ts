// A file of a directory replica made as a hard link to another file of the same side (MERGE.md
// rule H) instead of a copy: the link is made at a temporary name and renamed over its target
// as a copy is (dir.ts), after the same check of the target; where the side cannot link, the
// caller copies instead.
import { link as fsLink, unlink } from 'node:fs/promises';
import { lstatOrNone } from '../scan/fs-entry.js';
import { display, type ByteString, type Entry, type Hash } from '../tree/index.js';
import type { LinkTo } from '../merge/plan.js';
import { ALREADY, problem, type ContentSource, type Outcome } from './replica.js';
import type { SafeRoot } from './safe-path.js';

/** A file system's refusals of a hard link (where a copy still does): MERGE.md rule H. */
const LINK_REFUSED: ReadonlySet<string> = new Set([
  'EPERM',
  'EXDEV',
  'ENOTSUP',
  'EOPNOTSUPP',
  'ENOSYS',
  'EMLINK',
]);

/** What linking needs of the directory replica it writes in. */
export interface LinkSide {
  readonly label: string;
  readonly safe: SafeRoot;
  matches(path: ByteString, want: Entry | null): Promise<boolean>;
  hash(path: ByteString): Promise<Hash>;
  /** True when the file at `path` (lstat `st`) is a placeholder whose content was never fetched. */
  readonly neverFetched?: ((path: ByteString, st: { readonly ino: bigint }) => boolean) | undefined;
  /** A fresh temporary name beside `path`. */
  tempFor(path: ByteString): Promise<Buffer>;
  /** Rename `tmp` over `path` if that is still `expect` (already `entry`: done before). */
  install(tmp: Buffer, path: ByteString, expect: Entry | null, entry: Entry): Promise<Outcome>;
}

/**
 * `path` made a hard link to `link.to`: that file must be as the plan expects, and the
 * source's file still the one the plan saw. Answers `copy` instead where the link cannot be
 * made but a copy can, with a note for the report where that is news (the side refuses links;
 * a never-fetched file), none where the bytes of a `verify` link differ (the plan could not
 * tell; a copy is what it makes of other bytes).
 */
export async function putLink(
  side: LinkSide,
  path: ByteString,
  expect: Entry | null,
  entry: Entry,
  source: ContentSource,
  fromPath: ByteString,
  link: LinkTo,
): Promise<Outcome | { copy: string | undefined }> {
  if (!(await side.matches(link.to, link.expect)) || !(await source.matches(fromPath, entry))) {
    return (await side.matches(path, entry))
      ? ALREADY
      : problem(
          `${side.label}: ${display(path)} was to be a hard link to ${display(link.to)}, and one of them changed since the scan; ` +
            `nothing was made and it will be planned again on the next run`,
        );
  }
  if (side.neverFetched !== undefined) {
    const st = await lstatOrNone(await side.safe.need(link.to));
    if (st !== undefined && side.neverFetched(link.to, st)) {
      return {
        copy: `${display(path)} was copied, not linked to ${display(link.to)}, whose content was never fetched here`,
      };
    }
  }
  if (link.verify === true && (await source.hash(fromPath)) !== (await side.hash(link.to))) {
    return { copy: undefined };
  }
  const tmp = await side.tempFor(path);
  try {
    await fsLink(await side.safe.need(link.to), tmp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!LINK_REFUSED.has(code)) throw err;
    return {
      copy: `${side.label}: ${display(path)} was made as a copy, not as a hard link to ${display(link.to)}: the file system refused the link (${code})`,
    };
  }
  try {
    return await side.install(tmp, path, expect, entry);
  } finally {
    // Not placed, or renamed onto another name of the same file (rename then does nothing).
    await unlink(tmp).catch(() => undefined);
  }
}

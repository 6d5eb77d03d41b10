// The per-path problems a replica answers instead of writing (MERGE.md invariant 9), worded
// once for every implementation: the directory and the memory map refuse the same things in
// the same words, which is what the replica conformance suite holds them to.
import { display, type ByteString, type Entry } from '../tree/index.js';
import { problem, type Problem } from './replica.js';

/** What is at a target now, as a refusal names it. */
const found = (e: Entry | null | undefined): string =>
  e === null || e === undefined ? 'nothing' : `a ${e.kind}`;

/** The target is no longer what the plan expected (`have`: what is there now). */
export const changedSinceScan = (
  label: string,
  path: ByteString,
  expect: Entry | null,
  have: Entry | undefined,
): Problem =>
  problem(
    `${label}: ${display(path)} changed since the scan ` +
      `(expected ${found(expect)}, found ${found(have)}); ` +
      `it was left as it is and will be planned again on the next run`,
  );

/** The file a copy reads from is no longer what the plan saw. */
export const sourceChanged = (sourceLabel: string, fromPath: ByteString): Problem =>
  problem(
    `${sourceLabel}: ${display(fromPath)} changed since the scan; nothing was copied and it will be planned again on the next run`,
  );

/** Only files and symlinks are copied (put) or written (putData); `how` says which call. */
export const neverMade = (
  label: string,
  path: ByteString,
  entry: Entry,
  how: 'copied' | 'written',
): Problem => problem(`${label}: a ${entry.kind} at ${display(path)} is never ${how}`);

/** A directory to make where something else appeared. */
export const appearedSinceScan = (label: string, path: ByteString, have: Entry): Problem =>
  problem(
    `${label}: ${display(path)} appeared since the scan (a ${have.kind}); the directory was not made`,
  );

/** A directory to delete that is not empty. */
export const notEmpty = (label: string, path: ByteString): Problem =>
  problem(
    `${label}: directory ${display(path)} is not empty (something was added since the scan); it was kept`,
  );

/** A move whose target is taken by something else. */
export const targetExists = (label: string, path: ByteString, to: ByteString): Problem =>
  problem(
    `${label}: ${display(to)} exists; ${display(path)} was not moved there (tether never overwrites)`,
  );

/** A field setmeta cannot set (`field`: its name). */
export const notMetadata = (label: string, path: ByteString, field: string): Problem =>
  problem(`${label}: ${field} of ${display(path)} cannot be set as metadata`);

// Sibling variant names (DESIGN.md item 9): the local version of a conflicted path is kept as
//   <stem>.conflict-local-<YYYYMMDDTHHMMSSZ>-<h8>[-n]<ext>
// beside the canonical name. The time is the run's start (so a plan is deterministic), h8 the
// first 8 hex digits of the local content id, and -n (2, 3, …) is added until the name is
// free. Names are byte strings; the conflict record is the truth, the name only a hint.
import { TetherError } from '../errors.js';
import type { ByteString, Hash } from '../tree/index.js';

export const VARIANT_TAG = '.conflict-local-';
/** Longest name most filesystems accept (NAME_MAX). */
export const NAME_MAX = 255;

export interface VariantNameParts {
  readonly stem: ByteString;
  readonly ext: ByteString;
  /** The run start, to the second (UTC). */
  readonly time: Date;
  readonly h8: string;
  /** 1 for the first name; 2, 3, … after collisions. */
  readonly n: number;
}

/**
 * Split a name into stem and extension: the extension starts at the last dot, unless the
 * name starts with a dot (".bashrc", ".config.json": no extension) or ends with it.
 */
export function splitExt(name: ByteString): { stem: ByteString; ext: ByteString } {
  const dot = name.lastIndexOf('.');
  if (name.startsWith('.') || dot <= 0 || dot === name.length - 1) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/** 20260102T030405Z */
export function variantTime(now: Date): string {
  if (Number.isNaN(now.getTime())) {
    throw new TetherError('EUSAGE', 'variant time is not a valid date');
  }
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Cut a stem so the whole name fits NAME_MAX, never inside a UTF-8 sequence. */
function fitStem(stem: ByteString, room: number): ByteString {
  if (stem.length <= room) return stem;
  let end = Math.max(room, 1);
  while (end > 1 && (stem.charCodeAt(end) & 0xc0) === 0x80) end--;
  return stem.slice(0, end);
}

/** The n-th candidate variant name of `name` (n = 1 has no counter). */
export function variantName(name: ByteString, now: Date, contentId: Hash, n = 1): ByteString {
  if (!/^[0-9a-f]{8}/.test(contentId)) {
    throw new TetherError('EUSAGE', `variant name needs a hex content id, got "${contentId}"`);
  }
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new TetherError('EUSAGE', `variant counter must be a positive integer, got ${n}`);
  }
  const { stem, ext } = splitExt(name);
  const tail = `${VARIANT_TAG}${variantTime(now)}-${contentId.slice(0, 8)}${n > 1 ? `-${n}` : ''}`;
  let e = ext;
  if (tail.length + e.length >= NAME_MAX) e = '';
  return fitStem(stem, NAME_MAX - tail.length - e.length) + tail + e;
}

/**
 * The first variant name of `name` that `taken` says is free: every name listed in that
 * directory on any of the three sides, and every name already planned there.
 */
export function pickVariantName(
  name: ByteString,
  now: Date,
  contentId: Hash,
  taken: (candidate: ByteString) => boolean,
): ByteString {
  for (let n = 1; ; n++) {
    const candidate = variantName(name, now, contentId, n);
    if (!taken(candidate)) return candidate;
  }
}

const PATTERN =
  /^([\s\S]+)\.conflict-local-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{8})(?:-([1-9]\d*))?((?:\.[^.]*)?)$/;

/** The parts of a variant name, or undefined when `name` is not one. */
export function parseVariantName(name: ByteString): VariantNameParts | undefined {
  const m = PATTERN.exec(name);
  if (m === null) return undefined;
  const [, stem, y, mo, d, h, mi, s, h8, n, ext] = m;
  const time = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  if (Number.isNaN(time.getTime()) || n === '1') return undefined;
  return {
    stem: stem!,
    ext: ext ?? '',
    time,
    h8: h8!,
    n: n === undefined ? 1 : Number(n),
  };
}

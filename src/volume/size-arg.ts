// Sizes as users write them on the command line: 500M, 2G, 1.5G, 64k or plain bytes. The
// multiples are binary, as du -h and df -h show sizes, so a limit reads the way use is shown.
import { TetherError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/** The bytes `text` stands for; `option` names it in the message when it is no size. */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  const bytes = m === null || unit === undefined ? NaN : Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new TetherError(
      'EUSAGE',
      `${option} ${JSON.stringify(text)} is not a size: give a number of bytes, or one with K, M, G or T after it (as 500M or 2G)`,
      { option, text },
    );
  }
  return bytes;
}

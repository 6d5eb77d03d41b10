// What a path given on the command line may stand for, as bytes. Node decodes argv as UTF-8
// and replaces bytes that are not UTF-8 with U+FFFD, so a name like "caf\xe9.txt" typed in a
// shell arrives altered; its bytes are still in /proc/self/cmdline (Linux). And tether prints
// such names quoted with octal escapes ("caf\351.txt", tree/bytes.ts display), which a user
// may paste back, with or without the quotes.
import { readFileSync } from 'node:fs';
import { byteString, fromText, type ByteString } from '../tree/index.js';

/** Every byte string `arg` may stand for, the likeliest first (no duplicates). */
export function argForms(arg: string, cmdline: () => Buffer[] = rawArgv): ByteString[] {
  const out = new Set<ByteString>();
  if (arg.includes('\ufffd')) {
    for (const raw of cmdline()) if (raw.toString('utf8') === arg) out.add(byteString(raw));
  }
  out.add(fromText(arg));
  const printed = unprint(arg);
  if (printed !== undefined) out.add(printed);
  return [...out];
}

/** The process's arguments as the kernel holds them (none where /proc is not there). */
function rawArgv(): Buffer[] {
  try {
    const all = readFileSync('/proc/self/cmdline');
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0) {
        out.push(all.subarray(start, i));
        start = i + 1;
      }
    }
    return out;
  } catch {
    return [];
  }
}

const ESCAPES: Record<string, number> = { '"': 0x22, '\\': 0x5c, n: 0x0a, t: 0x09 };

/**
 * The bytes of a name in its printed form (display's inverse), quoted or not; undefined when
 * `text` has no escape to undo.
 */
export function unprint(text: string): ByteString | undefined {
  const quoted = text.length >= 2 && text.startsWith('"') && text.endsWith('"');
  const body = quoted ? text.slice(1, -1) : text;
  if (!body.includes('\\') && !quoted) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const octal = /^[0-3][0-7]{2}/.exec(body.slice(i + 1));
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else if (i + 1 < body.length && ESCAPES[body[i + 1]!] !== undefined) {
      bytes.push(ESCAPES[body[i + 1]!]!);
      i += 1;
    } else return undefined; // not an escape display makes: not a printed name
  }
  return byteString(Buffer.from(bytes));
}

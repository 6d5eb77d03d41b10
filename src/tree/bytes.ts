// Names are bytes. In memory a name (and a path) is a "byte string": a JS string whose every
// char code is one byte (0–255), i.e. Buffer's 'latin1' decoding. This keeps names exact for
// any byte sequence (including ones that are not UTF-8), makes `<` on strings the same order
// as comparing bytes, and lets names be Map keys with no copying.

/** A string whose char codes are bytes 0–255 (latin1 view of a byte sequence). */
export type ByteString = string;

export function bytesOf(s: ByteString): Buffer {
  return Buffer.from(s, 'latin1');
}

export function byteString(b: Uint8Array): ByteString {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Byte string of a text (the UTF-8 bytes of a JS string), e.g. a name typed by a user. */
export function fromText(text: string): ByteString {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Byte-wise comparison, as memcmp would order the two byte sequences. */
export function compareBytes(a: ByteString, b: ByteString): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when the bytes are valid UTF-8 (so the name can be shown as it is). */
export function isUtf8(s: ByteString): boolean {
  const buf = bytesOf(s);
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/**
 * A name for people: its UTF-8 text when the bytes are valid UTF-8 and printable, otherwise
 * a git-style quoted form ("caf\351") that states every byte exactly.
 */
export function display(s: ByteString): string {
  const text = isUtf8(s) ? bytesOf(s).toString('utf8') : undefined;
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\x00-\x1f\x7f"\\]/.test(text)) return text;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c >= 0x7f) {
      // Keep valid multi-byte UTF-8 sequences as text; escape other bytes in octal.
      if (text !== undefined && c >= 0x80) {
        let j = i + 1;
        while (j < s.length && (s.charCodeAt(j) & 0xc0) === 0x80) j++;
        out += bytesOf(s.slice(i, j)).toString('utf8');
        i = j - 1;
      } else out += '\\' + c.toString(8).padStart(3, '0');
    } else out += s.charAt(i);
  }
  return out + '"';
}

/** Join a parent path and a name ('' is the root). */
export function joinPath(parent: ByteString, name: ByteString): ByteString {
  return parent === '' ? name : parent + '/' + name;
}

/** The directory `path` is in ('' for the root's entries). */
export function parentOf(path: ByteString): ByteString {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The last name of `path` (the whole of a top-level one). */
export function lastName(path: ByteString): ByteString {
  return path.slice(path.lastIndexOf('/') + 1);
}

// User extended attributes of a replica path: names and values are bytes, paths are bytes.
// The native helper (native.ts) reads and writes them by byte path. Without it, the xattr
// binding does, by text path: a path that is not UTF-8 then cannot be named (reading finds no
// attributes there; writing is an error that says to build the helper). Only files and
// directories carry them (symlinks cannot hold user.*).
import { createRequire } from 'node:module';
import { TetherError } from '../errors.js';
import { byteString, bytesOf, compareBytes, type Xattr } from '../tree/index.js';
import { native } from './native.js';

type XattrBinding = typeof import('@napi-rs/xattr');
let binding: XattrBinding | undefined;
/** The xattr binding, loaded on first use (only without the native helper). */
function x(): XattrBinding {
  binding ??= createRequire(import.meta.url)('@napi-rs/xattr') as XattrBinding;
  return binding;
}

const USER = Buffer.from('user.');
const isUser = (name: Buffer): boolean => name.subarray(0, USER.length).equals(USER);

/** The path as text, when its bytes are UTF-8 (what the binding can name). */
function textOf(p: Buffer): string | undefined {
  const text = p.toString('utf8');
  return Buffer.from(text, 'utf8').equals(p) ? text : undefined;
}

/** Make the user.* attributes of `p` exactly `want` (others removed). */
export async function setXattrs(p: Buffer, want: readonly Xattr[] | undefined): Promise<void> {
  const wanted = want ?? [];
  const keep = new Set(wanted.map(([n]) => n));
  if (native !== undefined) {
    for (const n of native.xattrNames(p)) {
      if (isUser(n) && !keep.has(byteString(n))) native.xattrRemove(p, n);
    }
    for (const [n, v] of wanted) native.xattrSet(p, bytesOf(n), v);
    return;
  }
  const path = textOf(p);
  if (path === undefined) {
    if (wanted.length === 0) return;
    throw new TetherError(
      'EIO',
      `cannot set xattrs of ${byteString(p)}: its name is not UTF-8 and the native helper is ` +
        'not built; run "npm run build:native" in the tether checkout (needs a C compiler)',
      { path: byteString(p) },
    );
  }
  const have = (await x().listAttributes(path)).filter((n) => n.startsWith('user.'));
  for (const n of have) {
    if (!keep.has(byteString(Buffer.from(n, 'utf8')))) await x().removeAttribute(path, n);
  }
  for (const [n, v] of wanted) await x().setAttribute(path, bytesOf(n).toString('utf8'), v);
}

/** The user.* attributes of a file or directory, sorted by name; undefined when there are none. */
export async function readXattrs(p: Buffer): Promise<Xattr[] | undefined> {
  const out: Xattr[] = [];
  if (native !== undefined) {
    // Read on a worker thread: a hung network share stops this call, not the event loop.
    const flat = await native.xattrsAsync(p);
    for (let i = 0; i + 1 < flat.length; i += 2) out.push([byteString(flat[i]!), flat[i + 1]!]);
  } else {
    const path = textOf(p);
    if (path === undefined) return undefined; // cannot be named without the native helper
    let names: string[];
    try {
      names = (await x().listAttributes(path)).filter((n) => n.startsWith('user.'));
    } catch {
      return undefined; // gone, or a filesystem without xattr support: none to carry
    }
    for (const n of names) {
      const v = await x().getAttribute(path, n);
      if (v !== null) out.push([byteString(Buffer.from(n, 'utf8')), v]);
    }
  }
  return out.length === 0 ? undefined : out.sort((a, b) => compareBytes(a[0], b[0]));
}

/** readXattrs in this thread (for callers that already run off the event loop's path). */
export function readXattrsSync(p: Buffer): Xattr[] | undefined {
  const out: Xattr[] = [];
  if (native !== undefined) {
    let names: Buffer[];
    try {
      names = native.xattrNames(p);
    } catch {
      return undefined; // gone, unreadable, or no xattr support: none to carry
    }
    for (const n of names) {
      if (!isUser(n)) continue;
      const v = native.xattrGet(p, n);
      if (v !== null) out.push([byteString(n), v]);
    }
  } else {
    const path = textOf(p);
    if (path === undefined) return undefined; // cannot be named without the native helper
    let names: string[];
    try {
      names = x()
        .listAttributesSync(path)
        .filter((n) => n.startsWith('user.'));
    } catch {
      return undefined; // a filesystem without xattr support has none
    }
    for (const n of names) {
      const v = x().getAttributeSync(path, n);
      if (v !== null) out.push([byteString(Buffer.from(n, 'utf8')), v]);
    }
  }
  return out.length === 0 ? undefined : out.sort((a, b) => compareBytes(a[0], b[0]));
}

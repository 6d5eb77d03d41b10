// User extended attributes of a replica path. The xattr binding takes text paths only, so a
// path that is not UTF-8 is reached through /proc/self/fd of an open descriptor: names stay
// bytes end to end. Only files and directories carry them (symlinks cannot hold user.*).
import { open } from 'node:fs/promises';
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';

type XattrBinding = typeof import('@napi-rs/xattr');
let binding: XattrBinding | undefined;
/** The xattr binding, loaded on first use: most scans meet no xattrs and never need it. */
function x(): XattrBinding {
  binding ??= createRequire(import.meta.url)('@napi-rs/xattr') as XattrBinding;
  return binding;
}
import { byteString, bytesOf, compareBytes, type Xattr } from '../tree/index.js';

async function withFdPath<T>(p: Buffer, fn: (path: string) => Promise<T>): Promise<T> {
  const fh = await open(p, 'r');
  try {
    return await fn(`/proc/self/fd/${fh.fd}`);
  } finally {
    await fh.close();
  }
}

/** Make the user.* attributes of `p` exactly `want` (others removed). */
export async function setXattrs(p: Buffer, want: readonly Xattr[] | undefined): Promise<void> {
  const wanted = want ?? [];
  await withFdPath(p, async (path) => {
    const have = (await x().listAttributes(path)).filter((n) => n.startsWith('user.'));
    const keep = new Set(wanted.map(([n]) => bytesOf(n).toString('utf8')));
    for (const n of have) if (!keep.has(n)) await x().removeAttribute(path, n);
    for (const [n, v] of wanted) await x().setAttribute(path, bytesOf(n).toString('utf8'), v);
  });
}

/** The user.* attributes of a file or directory, sorted by name; undefined when there are none. */
export async function readXattrs(p: Buffer): Promise<Xattr[] | undefined> {
  const read = async (path: string): Promise<Xattr[]> => {
    let names: string[];
    try {
      names = (await x().listAttributes(path)).filter((n) => n.startsWith('user.'));
    } catch {
      return []; // a filesystem without xattr support has none
    }
    const out: Xattr[] = [];
    for (const n of names.sort()) {
      const v = await x().getAttribute(path, n);
      if (v !== null) out.push([byteString(Buffer.from(n, 'utf8')), v]);
    }
    return out;
  };
  const text = p.toString('utf8');
  const list = Buffer.from(text, 'utf8').equals(p) ? await read(text) : await withFdPath(p, read);
  return list.length === 0 ? undefined : list.sort((a, b) => compareBytes(a[0], b[0]));
}

/** readXattrs without the event loop (a scan's hot path: one listxattr per file). */
export function readXattrsSync(p: Buffer): Xattr[] | undefined {
  const read = (path: string): Xattr[] => {
    let names: string[];
    try {
      names = x()
        .listAttributesSync(path)
        .filter((n) => n.startsWith('user.'));
    } catch {
      return []; // a filesystem without xattr support has none
    }
    const out: Xattr[] = [];
    for (const n of names) {
      const v = x().getAttributeSync(path, n);
      if (v !== null) out.push([byteString(Buffer.from(n, 'utf8')), v]);
    }
    return out;
  };
  const text = p.toString('utf8');
  let list: Xattr[];
  if (Buffer.from(text, 'utf8').equals(p)) list = read(text);
  else {
    let fd: number;
    try {
      fd = openSync(p, 'r');
    } catch {
      return undefined;
    }
    try {
      list = read(`/proc/self/fd/${fd}`);
    } finally {
      closeSync(fd);
    }
  }
  return list.length === 0 ? undefined : list.sort((a, b) => compareBytes(a[0], b[0]));
}

// Small text and JSON formats shared by commands' output.
import { display, type Entry } from '../src/tree/index.js';
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]!}`;
}

/** Octal permission bits as ls prints them in numbers (644, 4755). */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}

/** An entry as JSON: names and targets displayed, mtime in ns as a string, xattrs base64. */
export function entryJson(e: Entry | null): unknown {
  if (e === null) return null;
  return {
    kind: e.kind,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtimeNs: e.mtimeNs.toString(),
    ...(e.id === undefined ? {} : { id: e.id }),
    ...(e.target === undefined ? {} : { target: display(e.target) }),
    ...(e.rdev === undefined ? {} : { rdev: e.rdev }),
    ...(e.xattrs === undefined
      ? {}
      : {
          xattrs: Object.fromEntries(e.xattrs.map(([k, v]) => [display(k), v.toString('base64')])),
        }),
  };
}

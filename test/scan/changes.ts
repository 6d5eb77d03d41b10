// Random changes to a directory tree, for properties that compare two ways of scanning or
// syncing the same history: edits, same-size edits with the old mtime put back (only ctime and
// the inode tell), creates (some deep), deletes, renames, new and removed directories, modes,
// xattrs and touches. Every time a change sets is given by the caller, never read off the
// clock, so two trees given the same changes end up with the same stamps.
import fc from 'fast-check';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';

export type Change =
  | { op: 'edit'; n: number; text: string }
  | { op: 'same-size'; n: number }
  | { op: 'create'; dir: number; name: string; text: string }
  | { op: 'delete'; n: number }
  | { op: 'rename'; n: number; dir: number }
  | { op: 'mkdir'; dir: number; name: string }
  | { op: 'rmdir'; dir: number }
  | { op: 'chmod'; n: number; mode: number }
  | { op: 'xattr'; n: number; value: string }
  | { op: 'touch'; n: number };

export const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant('edit' as const), n: fc.nat(), text: fc.string() }),
  fc.record({ op: fc.constant('same-size' as const), n: fc.nat() }),
  fc.record({
    op: fc.constant('create' as const),
    dir: fc.nat(),
    name: fc.constantFrom('n1', 'n2', 'n3', 'deep'),
    text: fc.string(),
  }),
  fc.record({ op: fc.constant('delete' as const), n: fc.nat() }),
  fc.record({ op: fc.constant('rename' as const), n: fc.nat(), dir: fc.nat() }),
  fc.record({
    op: fc.constant('mkdir' as const),
    dir: fc.nat(),
    name: fc.constantFrom('m1', 'm2'),
  }),
  fc.record({ op: fc.constant('rmdir' as const), dir: fc.nat() }),
  fc.record({
    op: fc.constant('chmod' as const),
    n: fc.nat(),
    mode: fc.constantFrom(0o600, 0o644, 0o755),
  }),
  fc.record({ op: fc.constant('xattr' as const), n: fc.nat(), value: fc.string({ minLength: 1 }) }),
  fc.record({ op: fc.constant('touch' as const), n: fc.nat() }),
);

/** Files and directories below `root` (root first), in name order. */
export function walk(root: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [root];
  for (let i = 0; i < dirs.length; i++) {
    const names = readdirSync(dirs[i]!, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const e of names) {
      const p = join(dirs[i]!, e.name);
      if (e.isDirectory()) dirs.push(p);
      else files.push(p);
    }
  }
  return { files, dirs };
}

/** Make one change; what it writes gets mtime `at` (seconds, fractions kept). */
export function applyChange(root: string, c: Change, at: number): void {
  const { files, dirs } = walk(root);
  const file = files.length === 0 ? undefined : files[(c as { n?: number }).n! % files.length];
  const dir = dirs[((c as { dir?: number }).dir ?? 0) % dirs.length]!;
  const stamp = (p: string): void => {
    utimesSync(p, at, at);
  };
  switch (c.op) {
    case 'edit':
      if (file === undefined) return;
      writeFileSync(file, `${c.text}!`);
      stamp(file);
      return;
    case 'same-size': {
      if (file === undefined) return;
      const st = statSync(file);
      const tmp = join(root, '..', `replacement-${process.pid}`);
      writeFileSync(tmp, Buffer.alloc(st.size, 'Z'));
      utimesSync(tmp, st.atime, st.mtime);
      renameSync(tmp, file);
      return;
    }
    case 'create': {
      const p = join(dir, c.name);
      if (existsSync(p)) return;
      if (c.name === 'deep') {
        mkdirSync(join(p, 'a', 'b'), { recursive: true });
        writeFileSync(join(p, 'a', 'b', 'leaf'), c.text);
        stamp(join(p, 'a', 'b', 'leaf'));
        return;
      }
      writeFileSync(p, c.text);
      stamp(p);
      return;
    }
    case 'delete':
      if (file !== undefined) rmSync(file);
      return;
    case 'rename':
      if (file !== undefined && !existsSync(join(dir, 'moved'))) {
        renameSync(file, join(dir, 'moved'));
      }
      return;
    case 'mkdir':
      if (!existsSync(join(dir, c.name))) mkdirSync(join(dir, c.name));
      return;
    case 'rmdir':
      if (dir !== root) rmSync(dir, { recursive: true });
      return;
    case 'chmod':
      if (file !== undefined) chmodSync(file, c.mode);
      return;
    case 'xattr':
      if (file !== undefined) setAttributeSync(file, 'user.v', c.value);
      return;
    case 'touch':
      if (file !== undefined) stamp(file);
      return;
  }
}

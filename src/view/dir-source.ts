// A view over a real directory: the volume's local view (base ⊕ overlay, offline changes
// included), read-only. A conflicted path can be mapped to its variant's file (the local
// version under its canonical name), hidden, or shown with other attributes (a metadata
// conflict keeps local's values only in its record); variants' own names are hidden.
// Placeholders (files never fetched) read as ENODATA; the engine's temporary files are never
// shown.
import { readdir } from 'node:fs/promises';
import type { Path } from '../merge/plan.js';
import { entryOf, fsPath, lstatOrNone } from '../scan/fs-entry.js';
import { TEMP_PREFIX } from '../scan/temp-name.js';
import { byteString, joinPath, type ByteString, type Entry } from '../tree/index.js';
import { splitPath, type ViewNode, type ViewSource } from './node.js';

/** What a path shows instead of the directory's own entry there. */
export type DirOverride =
  | { readonly as: 'hidden' }
  /** The file or directory at `real` (a variant), under this path's name. */
  | { readonly as: 'moved'; readonly real: Path }
  /** The directory's own bytes with these attributes. */
  | { readonly as: 'entry'; readonly entry: Entry };

export interface DirSourceOptions {
  readonly overrides?: ReadonlyMap<Path, DirOverride>;
  /** Whether the file at `path` is a placeholder (its content was never fetched). */
  readonly placeholder?: (path: Path) => boolean;
}

const TEMP = Buffer.from(TEMP_PREFIX);

export class DirSource implements ViewSource {
  private readonly root: Buffer;
  private readonly overrides: ReadonlyMap<Path, DirOverride>;
  readonly live = true;

  constructor(
    root: string,
    private readonly opts: DirSourceOptions = {},
  ) {
    this.root = Buffer.from(root);
    this.overrides = opts.overrides ?? new Map();
  }

  async lookup(path: Path): Promise<ViewNode | undefined> {
    const real = this.realPath(path);
    if (real === undefined) return undefined;
    const abs = fsPath(this.root, real);
    const st = await lstatOrNone(abs);
    if (st === undefined) return undefined;
    const own = await entryOf(abs, splitPath(path)[1], st);
    if (own === undefined) return undefined;
    const over = this.overrides.get(path);
    const entry = over?.as === 'entry' ? { ...over.entry, name: own.name } : own;
    if (entry.kind !== 'file') return { entry };
    if (this.opts.placeholder?.(real) === true) {
      return { entry, content: { from: 'none', why: 'it was never fetched from the server' } };
    }
    return { entry, content: { from: 'file', abs } };
  }

  async list(path: Path): Promise<ByteString[] | undefined> {
    const real = this.realPath(path);
    if (real === undefined) return undefined;
    let names: Buffer[];
    try {
      names = await readdir(fsPath(this.root, real), { encoding: 'buffer' });
    } catch {
      return undefined;
    }
    return names
      .filter((n) => !n.subarray(0, TEMP.length).equals(TEMP))
      .map((n) => byteString(n))
      .filter((name) => this.overrides.get(joinPath(path, name))?.as !== 'hidden');
  }

  /** The directory's path behind a view path (undefined: hidden). */
  private realPath(path: Path): Path | undefined {
    if (path === '') return '';
    let real = '';
    let at = '';
    for (const name of path.split('/')) {
      at = at === '' ? name : `${at}/${name}`;
      const over = this.overrides.get(at);
      if (over?.as === 'hidden') return undefined;
      real = over?.as === 'moved' ? over.real : joinPath(real, name);
    }
    return real;
  }
}

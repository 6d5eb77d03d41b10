// The three-way planner: walks base, local and server together and decides each path from
// the case table (cases.ts) with one exhaustive switch. It only builds data — actions in
// executable order, conflict records, base updates — and never writes (STYLE habit 1).
//
// Order of actions: a directory is created before its children and deleted after them; a
// variant (moving the local version aside) comes before the server version is put at the
// canonical path; a directory's own metadata is set after its children (a read-only mode
// would otherwise block them). Entries of directories in mkdir/setmeta/delete actions carry
// no id: by the time the action runs, the children have changed it; apply checks a
// directory's own fields, not its id.
import { assertNever } from '../errors.js';
import {
  changedFields,
  entriesEqual,
  joinPath,
  type Entry,
  type Field,
  type Hash,
  type TreeReader,
} from '../tree/index.js';
import { caseOf, isSpecial, unchanged } from './cases.js';
import {
  BOTH,
  NONE,
  node,
  nodeFields,
  only,
  other,
  PlanBuilder,
  type Ctx,
  type Presence,
} from './emit.js';
import { mergeFields } from './fields.js';
import type { ConflictKind, Path, Side } from './plan.js';
import { contentKey } from './variant-key.js';
import { pickVariantName } from './variant-name.js';
import { differingRows, skimmedNames, skimmedOf, skimmedTree, type Skimmed } from './walk.js';

export class Planner extends PlanBuilder {
  constructor(
    reader: TreeReader,
    private readonly now: Date,
    /** Local paths that are kept variants: never merged or uploaded, their names stay taken. */
    private readonly localVariants: ReadonlySet<Path> = new Set(),
  ) {
    super(reader);
  }

  /** Variant names planned per directory, so two variants never share a name. */
  private readonly planned = new Map<Path, Set<string>>();

  /** Merge three root trees. */
  run(base: Hash, local: Hash, server: Hash): void {
    this.children(
      '',
      skimmedTree(this.reader, base),
      skimmedTree(this.reader, local),
      skimmedTree(this.reader, server),
      { inDirDelete: false },
    );
  }

  /** Merge one directory's listings; says whether any child exists on each side afterwards. */
  private children(
    dir: Path,
    b: Skimmed | undefined,
    l: Skimmed | undefined,
    s: Skimmed | undefined,
    ctx: Ctx,
  ): Presence {
    let local = false;
    let server = false;
    let names: Set<string> | undefined;
    const taken = (candidate: string): boolean => {
      names ??= new Set([b, l, s].flatMap((x) => (x === undefined ? [] : skimmedNames(x))));
      // Recorded variants are left out of the local scan, but their names stay taken.
      return (
        names.has(candidate) ||
        (this.planned.get(dir)?.has(candidate) ?? false) ||
        this.localVariants.has(joinPath(dir, candidate))
      );
    };
    // A row that is the same on every side is equal (BOTH), and is not even decoded. (A local
    // variant is never such a row: neither base nor the server has it.)
    const { rows, same } = differingRows([b, l, s]);
    if (same > 0) {
      local = true;
      server = true;
    }
    for (const row of rows) {
      const [be, le, se] = row.entries;
      if (le !== undefined && this.localVariants.has(joinPath(dir, row.name))) {
        // A variant written into the local replica stays there, unseen by the other side.
        local = true;
        if (be !== undefined || se !== undefined) {
          const p = this.path(dir, row.name, be, undefined, se, ctx, taken);
          server ||= p.server;
        }
        continue;
      }
      const p = this.path(dir, row.name, be, le, se, ctx, taken);
      local ||= p.local;
      server ||= p.server;
    }
    return { local, server };
  }

  /** Decide one path: the case table. */
  private path(
    dir: Path,
    name: string,
    b: Entry | undefined,
    l: Entry | undefined,
    s: Entry | undefined,
    ctx: Ctx,
    taken: (candidate: string) => boolean,
  ): Presence {
    const path = joinPath(dir, name);
    const c = caseOf(b, l, s);
    switch (c) {
      // Nothing changed, or both sides agree on a deletion.
      case 'none:absent:absent':
        return NONE;
      case 'leaf:same:same':
      case 'dir:same:same':
        return BOTH;
      case 'leaf:absent:absent':
      case 'dir:absent:absent':
        this.setBase(path, null);
        return NONE;

      // Added on one side: copied to the other.
      case 'none:absent:leaf':
      case 'none:absent:dir':
        return this.copyIn(path, 'local', s!, b, ctx);
      case 'none:leaf:absent':
      case 'none:dir:absent':
        return this.copyIn(path, 'server', l!, b, ctx);

      // Deleted on one side, unchanged on the other: deleted there too.
      case 'leaf:same:absent':
      case 'dir:same:absent':
        return this.deleteSame(path, 'local', l!);
      case 'leaf:absent:same':
      case 'dir:absent:same':
        return this.deleteSame(path, 'server', s!);

      // Modified on one side, deleted on the other (rule M): the modification survives.
      case 'leaf:absent:leaf':
      case 'leaf:absent:dir':
      case 'dir:absent:leaf':
        return this.copyIn(path, 'local', s!, b, ctx);
      case 'leaf:leaf:absent':
      case 'leaf:dir:absent':
      case 'dir:leaf:absent':
        return this.copyIn(path, 'server', l!, b, ctx);

      // A directory deleted on one side, changed inside on the other (rule D).
      case 'dir:absent:dir':
        return this.dirDelete(path, b!, 'local', s!, ctx);
      case 'dir:dir:absent':
        return this.dirDelete(path, b!, 'server', l!, ctx);

      // Leaves on both sides: fields merge (rule F), or a content/type conflict (rules V, T).
      case 'none:leaf:leaf':
      case 'leaf:same:leaf':
      case 'leaf:leaf:same':
      case 'leaf:leaf:leaf':
      case 'dir:leaf:leaf':
        return this.leaves(dir, name, b, l!, s!, taken);

      // Directories on both sides: merge their own fields and their children.
      case 'none:dir:dir':
      case 'leaf:dir:dir':
      case 'dir:same:dir':
      case 'dir:dir:same':
      case 'dir:dir:dir':
        return this.dirs(path, b, l!, s!, ctx);

      // A type change on one side only: replace on the other.
      case 'leaf:same:dir':
      case 'dir:same:leaf':
        return this.replace(path, 'local', l!, s!);
      case 'leaf:dir:same':
      case 'dir:leaf:same':
        return this.replace(path, 'server', s!, l!);

      // A directory against a leaf, both changed: type conflict (rules T, V).
      case 'none:leaf:dir':
      case 'none:dir:leaf':
        return this.variantConflict(dir, name, b, l!, s!, 'add/add', ['kind'], taken);
      case 'leaf:leaf:dir':
      case 'leaf:dir:leaf':
      case 'dir:leaf:dir':
      case 'dir:dir:leaf':
        return this.variantConflict(dir, name, b, l!, s!, 'type', ['kind'], taken);

      // "Unchanged" needs a base: these cannot occur.
      case 'none:same:absent':
      case 'none:same:same':
      case 'none:same:leaf':
      case 'none:same:dir':
      case 'none:absent:same':
      case 'none:leaf:same':
      case 'none:dir:same':
        throw new Error(`merge: impossible case ${c} at ${path}`);
      default:
        return assertNever(c, 'merge case');
    }
  }

  /** Added (or modified against a deletion) on one side: copy it to `to`. */
  private copyIn(path: Path, to: Side, src: Entry, b: Entry | undefined, ctx: Ctx): Presence {
    if (!this.copyTo(to, path, src)) return only(other(to));
    if (b !== undefined && !ctx.inDirDelete) {
      const kind: ConflictKind = to === 'server' ? 'modify/delete' : 'delete/modify';
      this.record({
        path,
        kind,
        base: b,
        local: to === 'server' ? src : null,
        server: to === 'server' ? null : src,
        fields: [],
        informational: true,
        message:
          to === 'server'
            ? 'modified locally, deleted on the server: the local version was kept and re-created on the server'
            : 'deleted locally, modified on the server: the server version was kept and re-created locally',
      });
    }
    return BOTH;
  }

  /** Deleted on one side, unchanged (`cur`) on `side`: delete it there too. */
  private deleteSame(path: Path, side: Side, cur: Entry): Presence {
    return this.deleteTree(side, path, cur) ? NONE : only(side);
  }

  /** `side` still has base's `cur`; the other side replaced it by `winner` of another type. */
  private replace(path: Path, side: Side, cur: Entry, winner: Entry): Presence {
    if (isSpecial(winner) || isSpecial(cur)) return BOTH;
    if (cur.kind === 'dir') {
      if (!this.deleteTree(side, path, cur)) return BOTH;
      this.copyTo(side, path, winner);
    } else if (winner.kind === 'dir') {
      this.act({ op: 'delete', side, path, expect: cur });
      this.setBase(path, null);
      this.copyTo(side, path, winner);
    } else {
      this.put(side, path, cur, winner);
      this.setBase(path, winner);
    }
    return BOTH;
  }

  /** Leaves (no directory) on both sides. */
  private leaves(
    dir: Path,
    name: string,
    b: Entry | undefined,
    l: Entry,
    s: Entry,
    taken: (candidate: string) => boolean,
  ): Presence {
    const path = joinPath(dir, name);
    if (l.kind !== s.kind) {
      // A one-sided type change (file → symlink, say) is propagated; two-sided is a conflict.
      if (unchanged(b, l)) return this.replace(path, 'local', l, s);
      if (unchanged(b, s)) return this.replace(path, 'server', s, l);
      const kind = b === undefined ? 'add/add' : 'type';
      return this.variantConflict(dir, name, b, l, s, kind, ['kind'], taken);
    }
    const bl = b?.kind === l.kind ? b : undefined;
    const fm = mergeFields(bl, l, s);
    if (fm.kind === 'content-conflict') {
      const kind: ConflictKind =
        b === undefined ? 'add/add' : b.kind !== l.kind ? 'type' : 'edit/edit';
      return this.variantConflict(dir, name, b, l, s, kind, [fm.field], taken);
    }
    const m = fm.entry;
    let diverged = false;
    for (const side of ['local', 'server'] as const) {
      const cur = side === 'local' ? l : s;
      const fields = changedFields(cur, m);
      if (fields.length === 0) continue;
      if (fields.includes('content')) {
        if (isSpecial(cur) || isSpecial(m)) {
          diverged = true;
          continue;
        }
        this.put(side, path, cur, m, fm.contentFrom);
      } else {
        this.act({ op: 'setmeta', side, path, expect: cur, entry: m, fields });
      }
    }
    if (fm.conflicts.length > 0) this.metadataConflict(path, b, l, s, fm.conflicts);
    if (!diverged && (b === undefined || !entriesEqual(b, m))) this.setBase(path, m);
    return BOTH;
  }

  private metadataConflict(
    path: Path,
    b: Entry | undefined,
    l: Entry,
    s: Entry,
    fields: readonly Field[],
  ): void {
    this.record({
      path,
      kind: 'metadata',
      base: b ?? null,
      local: l,
      server: s,
      fields,
      informational: false,
      message: `${fields.join(', ')} changed differently on both sides: the server's value was kept, the local one is in this record`,
    });
  }

  /** Directories on both sides: their own fields merge; children are merged one by one. */
  private dirs(path: Path, b: Entry | undefined, l: Entry, s: Entry, ctx: Ctx): Presence {
    const bd = b?.kind === 'dir' ? b : undefined;
    const fm = mergeFields(bd, l, s);
    if (fm.kind !== 'merged') throw new Error(`merge: directories cannot conflict in content`);
    const m = node(fm.entry);
    if (l.id !== undefined && l.id === s.id) {
      // The same subtree on both sides: nothing below differs, base takes it whole.
      this.nodeMeta(path, l, s, m);
      const whole: Entry = { ...m, id: l.id };
      if (b === undefined || !entriesEqual(b, whole)) this.setBase(path, whole);
    } else {
      if (bd === undefined || nodeFields(bd, m).length > 0) this.setBase(path, m);
      this.children(
        path,
        skimmedOf(this.reader, bd),
        skimmedOf(this.reader, l),
        skimmedOf(this.reader, s),
        ctx,
      );
      this.nodeMeta(path, l, s, m);
    }
    if (fm.conflicts.length > 0) this.metadataConflict(path, b, l, s, fm.conflicts);
    return BOTH;
  }

  /** Set a directory's merged own fields where a side differs. */
  private nodeMeta(path: Path, l: Entry, s: Entry, m: Entry): void {
    for (const side of ['local', 'server'] as const) {
      const cur = side === 'local' ? l : s;
      const fields = nodeFields(cur, m);
      if (fields.length > 0) {
        this.act({ op: 'setmeta', side, path, expect: node(cur), entry: m, fields });
      }
    }
  }

  /**
   * Rule D: a directory deleted on `gone` and changed inside on the other side (`kept`).
   * Unchanged descendants are deleted; changed or new ones survive with their parents, and
   * the directory gets one record.
   */
  private dirDelete(path: Path, b: Entry, gone: Side, kept: Entry, ctx: Ctx): Presence {
    const keep = other(gone);
    const bl = skimmedOf(this.reader, b);
    const kl = skimmedOf(this.reader, kept);
    const inner = this.capture(() =>
      gone === 'local'
        ? this.children(path, bl, undefined, kl, { inDirDelete: true })
        : this.children(path, bl, kl, undefined, { inDirDelete: true }),
    );
    const survivors = inner.presence[gone];
    if (survivors || nodeFields(b, kept).length > 0) {
      this.act({ op: 'mkdir', side: gone, path, expect: null, entry: node(kept) });
      this.setBase(path, node(kept));
      this.emit(inner.out);
      if (!ctx.inDirDelete) {
        this.record({
          path,
          kind: 'directory-delete',
          base: b,
          local: gone === 'local' ? null : kept,
          server: gone === 'local' ? kept : null,
          fields: [],
          informational: true,
          message: `deleted ${gone === 'local' ? 'locally' : 'on the server'} while changed ${gone === 'local' ? 'on the server' : 'locally'}: unchanged entries were deleted, changed and new ones kept`,
        });
      }
      return BOTH;
    }
    this.emit(inner.out);
    if (inner.presence[keep]) return only(keep);
    this.act({ op: 'delete', side: keep, path, expect: node(kept) });
    this.setBase(path, null);
    return NONE;
  }

  /**
   * Rule V: the server's entry keeps the canonical path; the local one is moved aside to a
   * sibling variant (a directory with its whole subtree) and the server's is put in its place.
   */
  private variantConflict(
    dir: Path,
    name: string,
    b: Entry | undefined,
    l: Entry,
    s: Entry,
    kind: ConflictKind,
    fields: readonly Field[],
    taken: (candidate: string) => boolean,
  ): Presence {
    const path = joinPath(dir, name);
    const describe = `${kind} conflict: the server's version is at the path`;
    if (isSpecial(s)) {
      // A special file is never created on the other side: nothing moves, the record says why.
      this.record({
        path,
        kind,
        base: b ?? null,
        local: l,
        server: s,
        fields,
        informational: false,
        message: `${kind} conflict against a special file on the server, which is never copied: both sides were left as they are`,
      });
      return BOTH;
    }
    const vname = pickVariantName(name, this.now, contentKey(l), taken);
    let set = this.planned.get(dir);
    if (set === undefined) this.planned.set(dir, (set = new Set()));
    set.add(vname);
    const variantPath = joinPath(dir, vname);
    this.act({ op: 'variant', side: 'local', path, variantPath, entry: l });
    if (b !== undefined) this.setBase(path, null);
    this.copyTo('local', path, s);
    this.record({
      path,
      kind,
      base: b ?? null,
      local: l,
      server: s,
      fields,
      variantPath,
      informational: false,
      message: `${describe}, the local one was kept as a sibling variant`,
    });
    return BOTH;
  }
}

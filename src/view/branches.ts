// A directory of named sub-views, made up by the view itself: the hidden `.tether/` tree is
// one (`snapshots/NAME/…`, `variants/local|server|base/…`). The names are asked for at each
// listing, so a snapshot taken or removed shows at once.
import type { Path } from '../merge/plan.js';
import { joinPath, type ByteString } from '../tree/index.js';
import { dirEntry, type ViewNode, type ViewSource } from './node.js';

export interface Branch {
  /** The names under this directory now. */
  names(): ByteString[];
  /** The sub-view of one name (undefined: no such name). */
  open(name: ByteString): ViewSource | undefined;
}

export class BranchSource implements ViewSource {
  constructor(private readonly branch: Branch) {}

  async lookup(path: Path): Promise<ViewNode | undefined> {
    if (path === '') return { entry: dirEntry('') };
    const [sub, rest] = this.route(path);
    const node = await sub?.lookup(rest);
    if (node?.links === undefined) return node;
    // The sub-view's first member, as a path of this directory.
    const name = path.split('/', 1)[0]!;
    return { ...node, links: { ...node.links, first: joinPath(name, node.links.first) } };
  }

  list(path: Path): Promise<ByteString[] | undefined> {
    if (path === '') return Promise.resolve(this.branch.names());
    const [sub, rest] = this.route(path);
    return sub === undefined ? Promise.resolve(undefined) : sub.list(rest);
  }

  private route(path: Path): [ViewSource | undefined, Path] {
    const i = path.indexOf('/');
    const name = i < 0 ? path : path.slice(0, i);
    return [this.branch.open(name), i < 0 ? '' : path.slice(i + 1)];
  }
}

/** A branch with fixed names. */
export function fixedBranch(subs: Readonly<Record<string, () => ViewSource>>): Branch {
  return {
    names: () => Object.keys(subs),
    open: (name) => (Object.hasOwn(subs, name) ? subs[name]!() : undefined),
  };
}

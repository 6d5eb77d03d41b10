// The mount's handler table called directly, without the kernel (DESIGN decision 21): a
// passthrough to the view's directory, the volume consulted where it must be, and every error
// answered as a negative errno exactly once.
import test from 'ava';
import { constants } from 'node:os';
import {
  constants as C,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createHandlers } from '../../src/fuse/handlers.js';
import type { AttrListing, Operations, Stat } from '../../src/fuse/operations.js';
import { ATTR_FIELDS, attrsOf, loadLowLevel } from '../../src/fuse/lowlevel-addon.js';
import { TEMP_PREFIX } from '../../src/scan/temp-name.js';
import type { VolumeView } from '../../src/fuse/view.js';
import { TetherError } from '../../src/errors.js';
import { tempDir } from '../cli/run.js';

const E = constants.errno;
const caller = { uid: 0, gid: 0, pid: 1, umask: 0o022 };

/** A view over a directory; `remoteOnly` paths fail to open, as an offline placeholder does. */
function fakeView(root: string, remoteOnly: Set<string>) {
  const changes: string[] = [];
  const forgotten: string[] = [];
  const view: VolumeView = {
    root,
    present: (path) =>
      remoteOnly.has(path)
        ? Promise.reject(new TetherError('EIO', 'never fetched', {}, { errno: 'ENODATA' }))
        : Promise.resolve(),
    // A placeholder moves as it is: its new names are remote-only too.
    move: async (from, to, op) => {
      await op();
      for (const p of [...remoteOnly]) {
        if (p === from || p.startsWith(from + '/')) {
          remoteOnly.delete(p);
          remoteOnly.add(to + p.slice(from.length));
        }
      }
    },
    link: async (from, to, op) => {
      await op();
      if (remoteOnly.has(from)) remoteOnly.add(to);
    },
    forget: (path) => {
      forgotten.push(path);
      remoteOnly.delete(path);
      return Promise.resolve();
    },
    emptied: (path) => {
      forgotten.push(path);
      remoteOnly.delete(path);
      return Promise.resolve();
    },
    changed: (path) => {
      changes.push(path);
    },
    flush: () => Promise.resolve(),
    stateOf: (path) => Promise.resolve({ state: remoteOnly.has(path) ? 'remote-only' : 'cached' }),
  };
  return { view, changes, forgotten };
}

/** Call a handler and collect its answers (there must be exactly one). */
function call<T>(
  start: (cb: (err: number, v?: T) => void) => void,
): Promise<[number, T | undefined]> {
  return new Promise((resolve, reject) => {
    let answers = 0;
    start((err, v) => {
      answers++;
      if (answers > 1) reject(new Error('answered twice'));
      setImmediate(() => {
        resolve([err, v]);
      });
    });
  });
}

test('create, write, read, release: a change; an unlinked open file stays readable', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const { view, changes } = fakeView(dir, new Set());
  const h: Operations = createHandlers(view);
  const [e1, fd] = await call<number>((cb) => {
    h.create!('/f.txt', 0o644, C.O_RDWR, cb, caller);
  });
  t.is(e1, 0);
  const data = Buffer.from('hello');
  const n = await new Promise<number>((r) => {
    h.write!('/f.txt', fd!, data, 5, 0, r, caller);
  });
  t.is(n, 5);
  const [e2] = await call((cb) => {
    h.unlink!('/f.txt', cb, caller);
  });
  t.is(e2, 0);
  const buf = Buffer.alloc(16);
  const got = await new Promise<number>((r) => {
    h.read!(null, fd!, buf, 16, 0, r, caller);
  });
  t.is(buf.subarray(0, got).toString(), 'hello');
  const [e3, st] = await call<{ size: number | bigint }>((cb) => {
    h.fgetattr!(null, fd!, cb, caller);
  });
  t.is(e3, 0);
  t.is(Number(st!.size), 5);
  t.is(
    (
      await call((cb) => {
        h.release!(null, fd!, cb, caller);
      })
    )[0],
    0,
  );
  t.true(changes.includes('f.txt'));
});

test('a file unlinked while open stays readable through its descriptor; .fuse_hidden is a name like any other', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const { view } = fakeView(join(dir, 'view'), new Set());
  mkdirSync(view.root);
  const h = createHandlers(view);
  mkdirSync(join(view.root, 'd'));
  writeFileSync(join(view.root, 'd', 'f'), 'data');
  const [, fd] = await call<number>((cb) => {
    h.open!('/d/f', C.O_RDWR, cb, caller);
  });
  // The low-level binding unlinks an open file as it is, and names it no more (path null).
  t.is(
    (
      await call((cb) => {
        h.unlink!('/d/f', cb, caller);
      })
    )[0],
    0,
  );
  t.deepEqual(readdirSync(join(view.root, 'd')), []);
  const [e1, st] = await call<{ size: number | bigint }>((cb) => {
    h.fgetattr!(null, fd!, cb, caller);
  });
  t.is(e1, 0);
  t.is(Number(st!.size), 4);
  t.is(
    (
      await call((cb) => {
        h.release!(null, fd!, cb, caller);
      })
    )[0],
    0,
  );
  // A user's file named like FUSE 2's hidden names is renamed into the view like any other.
  writeFileSync(join(view.root, 'd', 'g'), 'kept');
  const hidden = '/d/.fuse_hidden0000000100000002';
  t.is(
    (
      await call((cb) => {
        h.rename!('/d/g', hidden, cb, caller);
      })
    )[0],
    0,
  );
  t.deepEqual(readdirSync(join(view.root, 'd')), ['.fuse_hidden0000000100000002']);
});

test('errors are negative errnos: missing, not empty, a placeholder offline', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  writeFileSync(join(dir, 'p.txt'), '');
  const { view, forgotten } = fakeView(dir, new Set(['p.txt']));
  const h = createHandlers(view);
  t.is(
    (
      await call((cb) => {
        h.getattr!('/nope', cb, caller);
      })
    )[0],
    -E.ENOENT,
  );
  t.is(
    (
      await call((cb) => {
        h.open!('/p.txt', C.O_RDONLY, cb, caller);
      })
    )[0],
    -E.ENODATA,
  );
  t.is(
    (
      await call((cb) => {
        h.rename!('/p.txt', '/q.txt', cb, caller);
      })
    )[0],
    0,
  );
  t.true(existsSync(join(dir, 'q.txt')), 'a placeholder moves without its content');
  t.is(
    (
      await call((cb) => {
        h.open!('/q.txt', C.O_RDONLY, cb, caller);
      })
    )[0],
    -E.ENODATA,
    'and is still one under its new name',
  );
  // Opened to be overwritten, a placeholder simply stops being one.
  const [e, fd] = await call<number>((cb) => {
    h.open!('/q.txt', C.O_WRONLY | C.O_TRUNC, cb, caller);
  });
  t.is(e, 0);
  t.deepEqual(forgotten, ['q.txt']);
  await call((cb) => {
    h.release!('/q.txt', fd!, cb, caller);
  });
  t.is(
    (
      await call((cb) => {
        h.mkdir!('/d', 0o755, cb, caller);
      })
    )[0],
    0,
  );
  writeFileSync(join(dir, 'd', 'x'), 'x');
  t.is(
    (
      await call((cb) => {
        h.rmdir!('/d', cb, caller);
      })
    )[0],
    -E.ENOTEMPTY,
  );
  t.is(
    (
      await call((cb) => {
        h.setxattr!('/d', 'user.tether.state', Buffer.from('x'), 0, 0, cb, caller);
      })
    )[0],
    -E.EPERM,
  );
});

test('user.tether.state is listed and read on every path; other names pass through', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  writeFileSync(join(dir, 'a'), 'a');
  const { view } = fakeView(dir, new Set());
  const h = createHandlers(view);
  const [, names] = await call<string[]>((cb) => {
    h.listxattr!('/a', cb, caller);
  });
  t.true(names!.includes('user.tether.state'));
  const [, v] = await call<Buffer | null>((cb) => {
    h.getxattr!('/a', 'user.tether.state', 0, cb, caller);
  });
  t.is(v!.toString(), 'cached');
  t.is(
    (
      await call((cb) => {
        h.setxattr!('/a', 'user.x', Buffer.from('1'), 0, 0, cb, caller);
      })
    )[0],
    0,
  );
  const [, x] = await call<Buffer | null>((cb) => {
    h.getxattr!('/a', 'user.x', 0, cb, caller);
  });
  t.is(x!.toString(), '1');
  t.is(readFileSync(join(dir, 'a'), 'utf8'), 'a');
});

const lowlevel = loadLowLevel() === undefined ? test.skip : test;

lowlevel(
  'readdirAttrs lists a directory with the attributes getattr gives, temp names left out',
  async (t) => {
    const { dir, cleanup } = tempDir();
    t.teardown(cleanup);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'a'), 'hello');
    writeFileSync(join(dir, `${TEMP_PREFIX}x`), 'engine temp');
    symlinkSync('a', join(dir, 'sub', 'l'));
    const h: Operations = createHandlers(fakeView(dir, new Set()).view);
    const listed = async (p: string) => {
      const [err, l] = await call<AttrListing>((cb) => {
        h.readdirAttrs!(p, cb, caller);
      });
      t.is(err, 0);
      return new Map(
        l!.names.map((n, i) => [n, l!.attrs.slice(i * ATTR_FIELDS, (i + 1) * ATTR_FIELDS)]),
      );
    };
    const attrsOfPath = async (p: string) => {
      const [err, st] = await call<Stat>((cb) => {
        h.getattr!(p, cb, caller);
      });
      t.is(err, 0);
      return attrsOf(0, st!);
    };
    const root = await listed('/');
    t.deepEqual([...root.keys()].sort(), ['.', '..', 'sub']);
    // The mount's root is its own parent.
    t.deepEqual(root.get('..'), await attrsOfPath('/'));
    const sub = await listed('/sub');
    t.deepEqual([...sub.keys()].sort(), ['.', '..', 'a', 'l']);
    for (const name of ['a', 'l']) t.deepEqual(sub.get(name), await attrsOfPath(`/sub/${name}`));
    t.deepEqual(sub.get('.'), await attrsOfPath('/sub'));
    t.deepEqual(sub.get('..'), await attrsOfPath('/'));
    const [missing] = await call((cb) => {
      h.readdirAttrs!('/nope', cb, caller);
    });
    t.is(missing, -E.ENOENT);
  },
);

// Invalidations and the session thread's creates (lowlevel-created.ts): a file the session
// thread made is in JavaScript's node table only once its created call is handled, so an
// invalidation asked for before then waits for it (and then names the new node), in order;
// one whose created calls never come runs after a short wait all the same.
import test from 'ava';
import type { LowLevelAddon, Session } from '../../src/fuse/lowlevel-addon.js';
import type { Ctx } from '../../src/fuse/lowlevel-context.js';
import { DirectCreates } from '../../src/fuse/lowlevel-created.js';
import { NodeTable, ROOT } from '../../src/fuse/nodes.js';

const who = { uid: 0, gid: 0, pid: 1, umask: 0o22 };

/** A context whose addon counts created calls sent as the test says, and no mount. */
function fixture() {
  const sent = { n: 0 };
  const addon = {
    createdSent: () => sent.n,
    giveNodeIds: () => true,
    setCreates: () => undefined,
  } as unknown as LowLevelAddon;
  const c = {
    addon,
    session: {} as Session,
    nodeFds: new Map(),
    nodes: new NodeTable(1),
    times: { attr: 1, entry: 1, negative: 1 },
    h: {
      created: (_p: string | null, _fd: number, cb: (err: number) => void) => {
        cb(0);
      },
      release: (_p: string | null, _fd: number, cb: (err: number) => void) => {
        cb(0);
      },
    },
  } as unknown as Ctx;
  return { c, sent, creates: new DirectCreates(c) };
}

test('an invalidation waits for the created calls made before it, then finds their nodes', async (t) => {
  const { c, sent, creates } = fixture();
  const id = c.nodes.reserve(4);
  const ran: string[] = [];
  // The session thread made two files; neither created call has been handled yet.
  sent.n = 2;
  creates.afterCreated(() => ran.push(`a:${String(c.nodes.child(ROOT, Buffer.from('a'))?.id)}`));
  creates.afterCreated(() => ran.push('second'));
  t.deepEqual(ran, []);
  await creates.created(ROOT, Buffer.from('a'), id, 10, 5, who);
  t.deepEqual(ran, []);
  await creates.created(ROOT, Buffer.from('b'), id + 1, 11, 6, who);
  t.deepEqual(ran, [`a:${String(id)}`, 'second']);
  // Nothing outstanding: at once.
  creates.afterCreated(() => ran.push('now'));
  t.deepEqual(ran, [`a:${String(id)}`, 'second', 'now']);
});

test('a created call that never comes holds an invalidation back only briefly', async (t) => {
  const { sent, creates } = fixture();
  sent.n = 1;
  let ran = false;
  creates.afterCreated(() => {
    ran = true;
  });
  t.false(ran);
  await new Promise((r) => setTimeout(r, 300));
  t.true(ran);
});

// The remote agent's client: answers and errors travel intact, a missed deadline fails the
// call as a transport error within its deadline and replaces the agent, progress keeps a
// long transfer alive, and an agent that dies or is stopped never leaves a call hanging.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { AgentCallError, AgentClient } from '../../src/agent/client.js';

const FAKE = fileURLToPath(new URL('./fake-agent.js', import.meta.url));

function client(): AgentClient {
  const c = new AgentClient({ command: process.execPath, args: [FAKE] });
  return c;
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; err?: AgentCallError }> {
  const at = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - at, value };
  } catch (err) {
    return { ms: Date.now() - at, err: err as AgentCallError };
  }
}

test('values travel intact, bigints and bytes included', async (t) => {
  const c = client();
  t.teardown(() => {
    c.close();
  });
  const v = { n: 1n << 70n, b: Buffer.from('xyz'), s: 'é' };
  const got = await c.call<typeof v>('echo', v, { deadlineMs: 5000 });
  t.is(got.n, v.n);
  t.deepEqual(Buffer.from(got.b), v.b);
  t.is(got.s, 'é');
});

test('an error keeps its code; transport errors are told apart', async (t) => {
  const c = client();
  t.teardown(() => {
    c.close();
  });
  const missing = await timed(c.call('fail', { code: 'ENOENT' }, { deadlineMs: 5000 }));
  t.is(missing.err?.remoteCode, 'ENOENT');
  t.false(missing.err?.transport);
  const io = await timed(c.call('fail', { code: 'ENOTCONN' }, { deadlineMs: 5000 }));
  t.is(io.err?.remoteCode, 'ENOTCONN');
  t.true(io.err?.transport);
});

test('a missed deadline fails the call in time and replaces the agent', async (t) => {
  const c = client();
  t.teardown(() => {
    c.close();
  });
  const first = await c.call<number>('pid', {}, { deadlineMs: 5000 });
  const other = c.call('slow', { steps: 100, everyMs: 100 }, { deadlineMs: 5000 });
  const r = await timed(c.call('hang', {}, { deadlineMs: 300 }));
  t.is(r.err?.remoteCode, 'ETIMEDOUT');
  t.true(r.err?.transport);
  t.true(r.ms >= 290 && r.ms < 1500, `answered after ${r.ms} ms`);
  // Every call in flight in that agent fails with it (they share its stuck process).
  const o = await timed(other);
  t.true(o.err?.transport);
  const second = await c.call<number>('pid', {}, { deadlineMs: 5000 });
  t.not(second, first, 'a new agent answers');
});

test('progress restarts the deadline: a long transfer that progresses is not cut', async (t) => {
  const c = client();
  t.teardown(() => {
    c.close();
  });
  await c.call('pid', {}, { deadlineMs: 5000 });
  let seen = 0;
  const r = await timed(
    c.call<number>(
      'slow',
      { steps: 8, everyMs: 100 },
      { deadlineMs: 300, idleMs: 300, onProgress: () => seen++ },
    ),
  );
  t.is(r.value, 8);
  t.true(r.ms > 600, 'longer than the deadline in all');
  t.is(seen, 8);
  const stalled = await timed(c.call('slow', { steps: 2, everyMs: 800 }, { deadlineMs: 300 }));
  t.is(stalled.err?.remoteCode, 'ETIMEDOUT', 'no progress within the deadline');
});

test('a stopped agent (as a hung one) is abandoned, and one that dies fails its calls', async (t) => {
  const c = client();
  t.teardown(() => {
    c.close();
  });
  const pid = await c.call<number>('pid', {}, { deadlineMs: 5000 });
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  });
  const r = await timed(c.call('echo', 1, { deadlineMs: 400 }));
  t.true(r.err?.transport);
  t.true(r.ms < 1500);
  t.is(await c.call<number>('echo', 2, { deadlineMs: 5000 }), 2);
  const died = await timed(c.call('exit', {}, { deadlineMs: 5000 }));
  t.is(died.err?.remoteCode, 'ENOTCONN');
  t.true(died.ms < 3000);
  t.is(await c.call<number>('echo', 3, { deadlineMs: 5000 }), 3);
});

test('a closed client refuses calls at once', async (t) => {
  const c = client();
  c.close();
  const r = await timed(c.call('echo', 1, { deadlineMs: 5000 }));
  t.is(r.err?.remoteCode, 'ENOTCONN');
});

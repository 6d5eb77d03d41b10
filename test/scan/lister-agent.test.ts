// The Lister conformance suite against the remote agent's Lister: a real agent process (the
// built CLI's `__agent`), every call a request over its IPC channel with a deadline.
import test from 'ava';
import { AgentClient } from '../../src/agent/client.js';
import { agentLister } from '../../src/agent/lister.js';
import { MAIN } from '../cli/run.js';
import { listerConformance } from './lister-conformance.js';

const agent = new AgentClient({ command: process.execPath, args: [MAIN, '__agent'] });

listerConformance({
  name: 'remote agent lister',
  make: (root) => agentLister(agent, root, { metaMs: 10_000, hashMs: 60_000 }),
  close: () => {
    agent.close();
  },
});

test('a missed deadline is a transport error, not a path error', async (t) => {
  const own = new AgentClient({ command: process.execPath, args: [MAIN, '__agent'] });
  t.teardown(() => {
    own.close();
  });
  const slow = agentLister(own, '/', { metaMs: 10_000, hashMs: 1 });
  const err = await t.throwsAsync(slow.hash('proc/self/exe'));
  t.like(err, { transport: true, remoteCode: 'ETIMEDOUT' });
});

// An agent for the client's tests: operations that answer, fail with a given code, progress
// slowly, or never answer at all (as a call on a hung server would not).
import { serveAgent } from '../../src/agent/serve.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

await serveAgent({
  echo: (args) => Promise.resolve(args),
  pid: () => Promise.resolve(process.pid),
  hang: () => new Promise(() => undefined),
  fail: (args) => {
    const code = (args as { code: string }).code;
    return Promise.reject(Object.assign(new Error(`failed with ${code}`), { code }));
  },
  slow: async (args, progress) => {
    const { steps, everyMs } = args as { steps: number; everyMs: number };
    for (let i = 0; i < steps; i++) {
      await sleep(everyMs);
      progress(i);
    }
    return steps;
  },
  exit: () => process.exit(7),
});
process.exit(0);

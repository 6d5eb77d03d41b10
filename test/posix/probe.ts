// Runs POSIX cases in the directory it is started in and prints what they observed, one JSON
// line per case: `node probe.js setup|run|run-nobody INDEX...`. A child process of the test
// (never the process serving a mount), started once per phase and user.
import * as fs from 'node:fs';
import { cases } from './cases.js';
import { Recorder } from './recorder.js';

const [phase, ...indexes] = process.argv.slice(2);
process.umask(0o022);
const top = process.cwd();

for (const i of indexes.map(Number)) {
  const c = cases[i];
  if (c === undefined) throw new Error(`no case ${i}`);
  const dir = `c${i}`;
  if (phase === 'setup') fs.mkdirSync(dir, { mode: 0o755 });
  process.chdir(dir);
  const r = new Recorder();
  try {
    if (phase === 'setup') c.setup?.(r);
    else c.run(r);
  } catch (err) {
    r.observed.push({ step: 'the case stopped', value: String(err) });
  }
  process.chdir(top);
  process.stdout.write(JSON.stringify({ index: i, observed: r.observed }) + '\n');
}

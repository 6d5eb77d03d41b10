// show and resolve name a conflicted path that is not UTF-8 either by its raw bytes (as a
// shell passes them) or in the form tether prints it (octal escapes, quoted or not).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, tempDir, tether } from '../cli/run.js';

const NAME = Buffer.from('caf\xe9.txt', 'latin1');

/** Run the CLI through sh, so that an argument can be bytes that are not UTF-8. */
function viaShell(script: string, env: Record<string, string>) {
  const r = spawnSync('sh', ['-c', script], {
    encoding: 'buffer',
    env: { ...process.env, NODE: process.execPath, MAIN, ...env },
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout.toString('latin1'),
    stderr: r.stderr.toString(),
  };
}

test('a conflict on a name that is not UTF-8 is shown and resolved by its bytes or its printed form', (t) => {
  const tmp = tempDir();
  try {
    const a = join(tmp.dir, 'A');
    const b = join(tmp.dir, 'B');
    const store = join(tmp.dir, 'store');
    for (const r of [a, b]) {
      mkdirSync(r);
      writeFileSync(Buffer.concat([Buffer.from(r + '/'), NAME]), 'base\n');
      writeFileSync(join(r, 'other'), 'x\n');
    }
    t.is(tether(['sync-dirs', a, b, '--store', store]).status, 0);
    writeFileSync(Buffer.concat([Buffer.from(a + '/'), NAME]), 'local\n');
    writeFileSync(Buffer.concat([Buffer.from(b + '/'), NAME]), 'server\n');
    t.is(tether(['sync-dirs', a, b, '--store', store]).status, 3);

    const env = { STORE: store };
    const raw = viaShell(
      `"$NODE" "$MAIN" show "$(printf 'caf\\351.txt')" --variant local --store "$STORE"`,
      env,
    );
    t.is(raw.status, 0, raw.stderr);
    t.is(raw.stdout, 'local\n');
    for (const printed of ['caf\\351.txt', '"caf\\351.txt"']) {
      const r = tether(['show', printed, '--variant', 'server', '--store', store]);
      t.is(r.status, 0, `${printed}: ${r.stderr}`);
      t.is(r.stdout, 'server\n');
    }
    const res = viaShell(
      `"$NODE" "$MAIN" resolve "$(printf 'caf\\351.txt')" --take local --store "$STORE"`,
      env,
    );
    t.is(res.status, 0, res.stderr);
    t.is(readFileSync(Buffer.concat([Buffer.from(b + '/'), NAME]), 'utf8'), 'local\n');
  } finally {
    tmp.cleanup();
  }
});
